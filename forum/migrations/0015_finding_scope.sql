-- Figures that say what they count (issue 14). A quantity now has a scope:
--   total   the whole city at that date (what headlines, timelines and tables read);
--   change  added (+) or removed (-) at that date: the only quantity that may be negative;
--   part    one place, district or contract.
-- Two units join the list: euros per device per year, devices per 10 000 inhabitants.
-- SQLite cannot change a CHECK in place: the table is rebuilt (foreign keys are off during
-- migrations, and the ids are kept, so sources, versions and notifications still point right).
create table findings_new (
    id integer primary key,
    board_id integer not null references boards (id),
    kind_id integer not null references finding_kinds (id),
    quantity real check (quantity is null or quantity >= 0 or scope = 'change'),
    unit text check (unit in ('count', 'eur', 'eur-per-year', 'km2', 'agents', 'days',
        'percent', 'eur-per-device-per-year', 'devices-per-10k')),
    scope text check (scope in ('total', 'change', 'part')),
    observed text not null check (
        observed glob '[12][0-9][0-9][0-9]'
        or observed glob '[12][0-9][0-9][0-9]-[01][0-9]'
        or observed glob '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    status text not null check (status in ('planned', 'voted', 'installed', 'in-use',
        'abandoned', 'removed', 'forbidden')),
    place text not null default '',
    latitude real check (latitude between -90 and 90),
    longitude real check (longitude between -180 and 180),
    note text not null default '',
    author_id integer not null references users (id),
    review text not null default 'published' check (review in ('published', 'pending',
        'rejected')),
    decided_by integer references users (id),
    decided_at text,
    reject_reason text,
    created_at text not null,
    published_at text,                     -- when it became public: the order of the feed
    edited_at text,
    deleted_at text,                       -- tombstone: kept for moderators and the history
    deleted_by integer references users (id),
    delete_reason text,
    check ((quantity is null) = (unit is null)),
    check ((quantity is null) = (scope is null)),
    check ((latitude is null) = (longitude is null))
);
-- Every figure entered so far was read as the city's total: it stays one.
insert into findings_new (id, board_id, kind_id, quantity, unit, scope, observed, status, place,
    latitude, longitude, note, author_id, review, decided_by, decided_at, reject_reason,
    created_at, published_at, edited_at, deleted_at, deleted_by, delete_reason)
select id, board_id, kind_id, quantity, unit,
    case when quantity is null then null else 'total' end, observed, status, place,
    latitude, longitude, note, author_id, review, decided_by, decided_at, reject_reason,
    created_at, published_at, edited_at, deleted_at, deleted_by, delete_reason
from findings;
drop table findings;
alter table findings_new rename to findings;
create index findings_by_board on findings (board_id, observed);
create index findings_by_kind on findings (kind_id, observed);
create index findings_by_author on findings (author_id, id);
create index findings_pending on findings (review, id) where review = 'pending';
create index findings_published on findings (published_at) where review = 'published';

-- The versions say so too (a purged version holds nothing: '{}').
update finding_revisions set data = json_set(data, '$.scope',
        case when json_extract(data, '$.quantity') is null then null else 'total' end)
    where data <> '{}';

