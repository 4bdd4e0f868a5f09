-- Earlier titles of a thread. A title may have to change after its first post is gone (a name
-- in it): its moderators rename it, and the title it had is kept here, for them only.
create table thread_title_revisions (
    id integer primary key,
    thread_id integer not null references threads (id),
    editor_id integer not null references users (id),
    title text not null,          -- the title as it was until this change
    replaced_at text not null
);
create index thread_title_revisions_by_thread on thread_title_revisions (thread_id, id);
