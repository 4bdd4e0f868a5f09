-- Versions that were never public stay private (issue 11), and edits wait like posts.
--
-- `state` says what became of each version of a post or a finding:
--   public      shown to everyone at some time (its text may be read in the public history);
--   pending     waiting for a moderator: a post or finding not yet approved, or an edit of a
--               public one (the last public version stays shown meanwhile);
--   refused     refused by a moderator (`note` holds the reason);
--   superseded  replaced by its author before it was ever public;
--   corrected   replaced by a moderator before it was ever public (`note`: what they said);
--   purged      its text erased by a moderator (it must disappear: doxxing).
-- Only 'public' versions reach anyone but the author and the item's moderators.
alter table post_revisions add column state text not null default 'public'
    check (state in ('public', 'pending', 'refused', 'superseded', 'corrected', 'purged'));
alter table post_revisions add column note text not null default '';
create index post_revisions_pending on post_revisions (post_id) where state = 'pending';

alter table finding_revisions add column state text not null default 'public'
    check (state in ('public', 'pending', 'refused', 'superseded', 'corrected', 'purged'));
alter table finding_revisions add column note text not null default '';
create index finding_revisions_pending on finding_revisions (finding_id)
    where state = 'pending';

-- Existing versions, marked conservatively. Until now an edit of a public item was public at
-- once, and an item that waited was published by one approval (`decided_at`). So:
-- 1. every version of an item still pending or refused was never public; its last version is
--    the one waiting or refused (the earlier ones were replaced before any decision);
-- 2. for an approved item, the versions older than the one current at its approval were never
--    public (written while it waited, or refused); the one before a moderator's correction made
--    in the approval is marked 'corrected'; later versions were public at once;
-- 3. an item published at once (no decision) was public in every version.
update post_revisions set state = 'superseded'
    where post_id in (select id from posts where status in ('pending', 'rejected'));
update post_revisions set
    state = case (select status from posts where posts.id = post_id)
        when 'pending' then 'pending' else 'refused' end,
    note = case (select status from posts where posts.id = post_id)
        when 'rejected' then coalesce((select reject_reason from posts
                                       where posts.id = post_id), '') else '' end
    where id in (select max(post_revisions.id) from post_revisions
                 join posts on posts.id = post_revisions.post_id
                 where posts.status in ('pending', 'rejected') group by post_revisions.post_id);

create temporary table approved_versions as
    select posts.id as post_id, posts.author_id, posts.decided_by,
        (select max(r.id) from post_revisions as r where r.post_id = posts.id
         and r.created_at <= posts.decided_at) as revision_id
    from posts where posts.status = 'published' and posts.decided_at is not null;
update post_revisions set state = 'superseded' where exists (
    select 1 from approved_versions as a where a.post_id = post_revisions.post_id
    and post_revisions.id < a.revision_id);
update post_revisions set state = 'corrected' where id in (
    select (select max(r.id) from post_revisions as r where r.post_id = a.post_id
            and r.id < a.revision_id)
    from approved_versions as a join post_revisions as d on d.id = a.revision_id
    where d.editor_id = a.decided_by and d.editor_id <> a.author_id);
drop table approved_versions;

update finding_revisions set state = 'superseded'
    where finding_id in (select id from findings where review in ('pending', 'rejected'));
update finding_revisions set
    state = case (select review from findings where findings.id = finding_id)
        when 'pending' then 'pending' else 'refused' end,
    note = case (select review from findings where findings.id = finding_id)
        when 'rejected' then coalesce((select reject_reason from findings
                                       where findings.id = finding_id), '') else '' end
    where id in (select max(finding_revisions.id) from finding_revisions
                 join findings on findings.id = finding_revisions.finding_id
                 where findings.review in ('pending', 'rejected')
                 group by finding_revisions.finding_id);

create temporary table approved_findings as
    select findings.id as finding_id, findings.author_id, findings.decided_by,
        (select max(r.id) from finding_revisions as r where r.finding_id = findings.id
         and r.created_at <= findings.decided_at) as revision_id
    from findings where findings.review = 'published' and findings.decided_at is not null;
update finding_revisions set state = 'superseded' where exists (
    select 1 from approved_findings as a where a.finding_id = finding_revisions.finding_id
    and finding_revisions.id < a.revision_id);
update finding_revisions set state = 'corrected' where id in (
    select (select max(r.id) from finding_revisions as r where r.finding_id = a.finding_id
            and r.id < a.revision_id)
    from approved_findings as a join finding_revisions as d on d.id = a.revision_id
    where d.editor_id = a.decided_by and d.editor_id <> a.author_id);
drop table approved_findings;

-- The journal records purges (without the purged text): SQLite cannot change a CHECK in place.
create table moderation_log_new (
    id integer primary key,
    moderator_id integer not null references users (id),
    action text not null check (action in ('approve', 'reject', 'edit', 'delete', 'restore',
        'lock', 'unlock', 'pin', 'unpin', 'move', 'warn', 'suspend', 'ban', 'lift', 'trust',
        'distrust', 'dismiss_flags', 'hide', 'purge')),
    target_kind text not null check (target_kind in ('post', 'thread', 'user', 'finding')),
    target_id integer not null,
    board_id integer references boards (id),
    reason text not null default '',
    reason_private integer not null default 0 check (reason_private in (0, 1)),
    created_at text not null
);
insert into moderation_log_new select id, moderator_id, action, target_kind, target_id,
    board_id, reason, reason_private, created_at from moderation_log;
drop table moderation_log;
alter table moderation_log_new rename to moderation_log;
create index moderation_log_recent on moderation_log (id desc);
