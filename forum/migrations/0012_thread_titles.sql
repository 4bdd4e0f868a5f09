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

-- When its moderators hid a thread (the rest of the time null). Its status is then 'rejected',
-- as a refused thread's, so every channel that shows only published threads leaves it out;
-- hidden_at tells it from a refused thread, which showing again must not publish.
alter table threads add column hidden_at text;
