-- Figures that say what they count, continued (issue 14).

-- A city's population is a finding like the others (sourced, dated, moderated): the kind
-- that lets the national table and the comparison read figures per 10 000 inhabitants.
-- Before 'Other', which stays last.
insert into finding_kinds (slug, label, position, created_at)
    select 'population', 'Population', 5, '2026-12-07T00:00:00.000Z'
    where not exists (select 1 from finding_kinds where slug = 'population');

-- An administrator may merge a kind into another: its findings move to the target, the kind
-- stays (hidden from lists) so that old versions and the journal still name it.
alter table finding_kinds add column merged_into integer references finding_kinds (id);

-- What a kind was called before each rename or merge: the history kept (the journal says
-- who did it and why).
create table finding_kind_changes (
    id integer primary key,
    kind_id integer not null references finding_kinds (id),
    action text not null check (action in ('rename', 'merge')),
    old_label text not null,
    new_label text not null,              -- the new name, or the target's name for a merge
    target_id integer references finding_kinds (id),
    moved integer not null default 0,     -- findings moved by a merge
    admin_id integer not null references users (id),
    reason text not null default '',
    created_at text not null,
    check ((action = 'merge') = (target_id is not null))
);
create index finding_kind_changes_by_kind on finding_kind_changes (kind_id, id);

-- The journal records renames and merges of kinds (and, since 0019, records requests): SQLite
-- cannot change a CHECK in place.
create table moderation_log_new (
    id integer primary key,
    moderator_id integer not null references users (id),
    action text not null check (action in ('approve', 'reject', 'edit', 'delete', 'restore',
        'lock', 'unlock', 'pin', 'unpin', 'move', 'warn', 'suspend', 'ban', 'lift', 'trust',
        'distrust', 'dismiss_flags', 'hide', 'purge', 'rename', 'merge')),
    target_kind text not null check (target_kind in ('post', 'thread', 'user', 'finding',
        'request', 'kind')),
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

-- /search finds findings by place and note (accents and capitals ignored, as posts); kinds
-- and cities are matched by their shown names in Python. Visibility is decided at query time
-- (permissions.finding_filter), so the index holds every finding; a purge empties the fields
-- and the trigger takes the words out.
create virtual table findings_text using fts5(place, note, content='findings',
    content_rowid='id', tokenize='unicode61 remove_diacritics 2');
insert into findings_text (findings_text) values ('rebuild');
create trigger findings_text_insert after insert on findings begin
    insert into findings_text (rowid, place, note) values (new.id, new.place, new.note);
end;
create trigger findings_text_delete after delete on findings begin
    insert into findings_text (findings_text, rowid, place, note)
        values ('delete', old.id, old.place, old.note);
end;
create trigger findings_text_update after update of place, note on findings begin
    insert into findings_text (findings_text, rowid, place, note)
        values ('delete', old.id, old.place, old.note);
    insert into findings_text (rowid, place, note) values (new.id, new.place, new.note);
end;
