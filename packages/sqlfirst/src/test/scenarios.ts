/**
 * Schema evolution scenarios: pairs of small schemas (v1 → v2), each with seed
 * rows, used to check that the engine converges a database from v1 to v2 and
 * keeps the data it should keep.
 *
 * Data only. Every scenario here was checked against @supabase/pg-delta
 * 1.0.0-alpha.34 on PostgreSQL 18: v1 applied to an empty database, seed run,
 * v1 → v2 planned and applied, the re-plan empty, `survives` unchanged, and the
 * `dataLoss` / `nonTransactional` flags equal to what the plan reports.
 */

export interface EvolutionScenario {
  /** short, unique, e.g. "add nullable column" */
  name: string;
  /** schema v1 (applied to an empty database first) */
  before: string;
  /** INSERT statements run after v1 is applied */
  seed?: string;
  /** schema v2 (the change under test) */
  after: string;
  /** a SELECT whose rows must be identical before and after applying v2: the rows in unchanged columns survive. Order it (ORDER BY) */
  survives?: string;
  /** true when the v1→v2 plan must contain a statement that loses data (so apply needs --allow-data-loss) */
  dataLoss?: boolean;
  /** true when the plan contains a step PostgreSQL cannot run in a transaction (ALTER TYPE ... ADD VALUE) */
  nonTransactional?: boolean;
}

// Shared building blocks ------------------------------------------------------

const accounts = `
create table accounts (
  id integer primary key,
  name text not null,
  email varchar(20),
  balance numeric(10,2) not null default 0
);
`;

const accountsSeed = `
insert into accounts (id, name, email, balance) values
  (1, 'ann', 'ann@example.com', 10.50),
  (2, 'bob', null, 0),
  (3, 'cy', 'cy@example.com', 1234.56);
`;

const customersOrders = `
create table customers (
  id integer primary key,
  name text not null
);
create table orders (
  id integer primary key,
  customer_id integer not null references customers (id) on delete restrict,
  total numeric(10,2) not null
);
`;

const customersOrdersSeed = `
insert into customers (id, name) values (1, 'ann'), (2, 'bob');
insert into orders (id, customer_id, total) values (10, 1, 5.00), (11, 1, 7.25), (12, 2, 1.00);
`;

const ordersSurvive = `select o.id, o.customer_id, o.total::text, c.name from orders o join customers c on c.id = o.customer_id order by o.id`;

const events = `
create table events (
  id integer primary key,
  kind text not null,
  user_id integer not null,
  created_at timestamptz not null default '2026-01-01 00:00:00+00'
);
`;

const eventsSeed = `
insert into events (id, kind, user_id, created_at) values
  (1, 'login', 7, '2026-01-01 10:00:00+00'),
  (2, 'logout', 7, '2026-01-01 11:00:00+00'),
  (3, 'login', 8, '2026-01-02 09:30:00+00');
`;

const eventsSurvive = `select id, kind, user_id, created_at::text from events order by id`;

const moodType = `create type mood as enum ('sad', 'ok', 'happy');`;

const people = `
create table people (
  id integer primary key,
  name text not null,
  mood mood not null default 'ok'
);
`;

const peopleSeed = `insert into people (id, name, mood) values (1, 'ann', 'happy'), (2, 'bob', 'sad'), (3, 'cy', 'ok');`;

const items = `
create table items (
  id integer primary key,
  name text not null,
  price numeric(10,2) not null,
  updated_at timestamptz not null default '2000-01-01 00:00:00+00'
);
`;

const itemsSeed = `insert into items (id, name, price) values (1, 'pen', 1.20), (2, 'ink', 3.00);`;

const touchFunction = `
create function touch() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
`;

// Scenarios -------------------------------------------------------------------

export const scenarios: EvolutionScenario[] = [
  // ---- columns -------------------------------------------------------------
  {
    name: 'add nullable column',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('balance numeric(10,2) not null default 0', 'balance numeric(10,2) not null default 0,\n  nickname text'),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'add column with default',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('balance numeric(10,2) not null default 0', "balance numeric(10,2) not null default 0,\n  currency char(3) default 'EUR'"),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'add NOT NULL column with default',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('balance numeric(10,2) not null default 0', 'balance numeric(10,2) not null default 0,\n  is_active boolean not null default true'),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'add NOT NULL column with volatile default',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('balance numeric(10,2) not null default 0', 'balance numeric(10,2) not null default 0,\n  token uuid not null default gen_random_uuid()'),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'add stored generated column',
    before: items,
    seed: itemsSeed,
    after: items.replace('price numeric(10,2) not null,', 'price numeric(10,2) not null,\n  price_cents integer generated always as ((price * 100)::integer) stored,'),
    survives: `select id, name, price::text from items order by id`,
  },
  {
    name: 'drop column',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('  email varchar(20),\n', ''),
    survives: `select id, name, balance::text from accounts order by id`,
    dataLoss: true,
  },
  {
    name: 'rename column (drop + add)',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('name text not null', 'full_name text'),
    survives: `select id, email, balance::text from accounts order by id`,
    dataLoss: true,
  },
  {
    name: 'change column collation (drop + add)',
    before: `create table words (id integer primary key, word text not null default '', lang text);`,
    seed: `insert into words (id, word, lang) values (1, 'apple', 'en'), (2, 'Zebra', 'en');`,
    after: `create table words (id integer primary key, word text collate "C" not null default '', lang text);`,
    survives: `select id, lang from words order by id`,
    dataLoss: true,
  },
  {
    name: 'change generated column expression (drop + add)',
    before: `create table boxes (id integer primary key, side integer not null, area integer generated always as (side * side) stored);`,
    seed: `insert into boxes (id, side) values (1, 3), (2, 4);`,
    after: `create table boxes (id integer primary key, side integer not null, area integer generated always as (side * side * 2) stored);`,
    survives: `select id, side from boxes order by id`,
    dataLoss: true,
  },
  {
    name: 'rename table (drop + create)',
    before: customersOrders + `create table notes (id integer primary key, body text not null);`,
    seed: customersOrdersSeed + `insert into notes (id, body) values (1, 'a'), (2, 'b');`,
    after: customersOrders + `create table memos (id integer primary key, body text not null);`,
    survives: ordersSurvive,
    dataLoss: true,
  },
  {
    name: 'drop table',
    before: customersOrders + `create table notes (id integer primary key, body text not null);`,
    seed: customersOrdersSeed + `insert into notes (id, body) values (1, 'a'), (2, 'b');`,
    after: customersOrders,
    survives: ordersSurvive,
    dataLoss: true,
  },
  {
    name: 'table moved to another schema (drop + create)',
    before: customersOrders + `create schema archive;\ncreate table notes (id integer primary key, body text not null);`,
    seed: customersOrdersSeed + `insert into notes (id, body) values (1, 'a'), (2, 'b');`,
    after: customersOrders + `create schema archive;\ncreate table archive.notes (id integer primary key, body text not null);`,
    survives: ordersSurvive,
    dataLoss: true,
  },
  {
    name: 'drop schema with its table',
    before: customersOrders + `create schema legacy;\ncreate table legacy.notes (id integer primary key, body text not null);`,
    seed: customersOrdersSeed + `insert into legacy.notes (id, body) values (1, 'a');`,
    after: customersOrders,
    survives: ordersSurvive,
    dataLoss: true,
  },
  {
    name: 'unlogged table made logged',
    before: `create unlogged table cache_entries (key text primary key, value jsonb not null);`,
    seed: `insert into cache_entries (key, value) values ('a', '{"n": 1}'), ('b', '[]');`,
    after: `create table cache_entries (key text primary key, value jsonb not null);`,
    survives: `select key, value from cache_entries order by key`,
  },

  // ---- column types --------------------------------------------------------
  {
    name: 'widen integer to bigint',
    before: `create table counters (id integer primary key, hits integer not null default 0);`,
    seed: `insert into counters (id, hits) values (1, 5), (2, 2147483647);`,
    after: `create table counters (id bigint primary key, hits bigint not null default 0);`,
    survives: `select id::text, hits::text from counters order by id`,
  },
  {
    name: 'widen varchar(20) to varchar(100)',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('email varchar(20)', 'email varchar(100)'),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'narrow varchar(100) to varchar(20) (data fits)',
    // not a known widening: sqlfirst treats it as possible data loss
    dataLoss: true,
    before: accounts.replace('email varchar(20)', 'email varchar(100)'),
    seed: accountsSeed,
    after: accounts,
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'change text to integer (values are numbers)',
    // not a known widening: sqlfirst treats it as possible data loss
    dataLoss: true,
    before: `create table readings (id integer primary key, raw text not null, unit text);`,
    seed: `insert into readings (id, raw, unit) values (1, '42', 'C'), (2, '-7', 'C'), (3, '0', null);`,
    after: `create table readings (id integer primary key, raw integer not null, unit text);`,
    survives: `select id, raw::text, unit from readings order by id`,
  },
  {
    name: 'change integer to text',
    before: `create table readings (id integer primary key, code integer not null);`,
    seed: `insert into readings (id, code) values (1, 42), (2, 7);`,
    after: `create table readings (id integer primary key, code text not null);`,
    survives: `select id, code::text from readings order by id`,
  },
  {
    name: 'change numeric(10,2) to numeric(20,8)',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('balance numeric(10,2)', 'balance numeric(20,8)'),
    survives: `select id, name, email, round(balance, 2)::text as balance from accounts order by id`,
  },
  {
    name: 'change timestamp to timestamptz',
    before: `create table logs (id integer primary key, at timestamp not null, line text not null);`,
    seed: `insert into logs (id, at, line) values (1, '2026-03-01 12:00:00', 'start'), (2, '2026-03-01 12:05:00', 'stop');`,
    after: `create table logs (id integer primary key, at timestamptz not null, line text not null);`,
    survives: `select id, line from logs order by id`,
    dataLoss: true,
  },
  {
    name: 'change text column to enum',
    // not a known widening: sqlfirst treats it as possible data loss
    dataLoss: true,
    before: moodType + `create table people (id integer primary key, name text not null, mood text not null);`,
    seed: `insert into people (id, name, mood) values (1, 'ann', 'happy'), (2, 'bob', 'sad');`,
    after: moodType + `create table people (id integer primary key, name text not null, mood mood not null);`,
    survives: `select id, name, mood::text from people order by id`,
  },

  // ---- defaults and nullability --------------------------------------------
  {
    name: 'set default',
    before: events.replace(" default '2026-01-01 00:00:00+00'", ''),
    seed: eventsSeed,
    after: events.replace("default '2026-01-01 00:00:00+00'", 'default now()'),
    survives: eventsSurvive,
  },
  {
    name: 'drop default',
    before: events,
    seed: eventsSeed,
    after: events.replace(" default '2026-01-01 00:00:00+00'", ''),
    survives: eventsSurvive,
  },
  {
    name: 'change default',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('not null default 0', 'not null default 100'),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'set NOT NULL',
    before: events.replace('user_id integer not null', 'user_id integer'),
    seed: eventsSeed,
    after: events,
    survives: eventsSurvive,
  },
  {
    name: 'drop NOT NULL',
    before: events,
    seed: eventsSeed,
    after: events.replace('user_id integer not null', 'user_id integer'),
    survives: eventsSurvive,
  },

  // ---- identity and sequences ----------------------------------------------
  {
    name: 'add identity to an integer column',
    before: `create table tickets (id integer primary key, title text not null);`,
    seed: `insert into tickets (id, title) values (1, 'first'), (2, 'second');`,
    after: `create table tickets (id integer generated by default as identity primary key, title text not null);`,
    survives: `select id, title from tickets order by id`,
  },
  {
    name: 'identity kept when widened to bigint',
    before: `create table tickets (id integer generated always as identity primary key, title text not null);`,
    seed: `insert into tickets (title) values ('first'), ('second');`,
    after: `create table tickets (id bigint generated always as identity primary key, title text not null);`,
    survives: `select id::text, title from tickets order by id`,
  },
  {
    name: 'identity ALWAYS changed to BY DEFAULT',
    before: `create table tickets (id integer generated always as identity primary key, title text not null);`,
    seed: `insert into tickets (title) values ('first'), ('second');`,
    after: `create table tickets (id integer generated by default as identity primary key, title text not null);`,
    survives: `select id, title from tickets order by id`,
  },
  {
    name: 'identity dropped',
    before: `create table tickets (id integer generated by default as identity primary key, title text not null);`,
    seed: `insert into tickets (title) values ('first'), ('second');`,
    after: `create table tickets (id integer primary key, title text not null);`,
    survives: `select id, title from tickets order by id`,
    dataLoss: true,
  },
  {
    name: 'serial replaced by identity',
    before: `create table tickets (id serial primary key, title text not null);`,
    seed: `insert into tickets (title) values ('first'), ('second');`,
    after: `create table tickets (id integer generated by default as identity primary key, title text not null);`,
    survives: `select id, title from tickets order by id`,
    dataLoss: true,
  },
  {
    name: 'integer column becomes serial',
    before: `create table tickets (id integer primary key, title text not null);`,
    seed: `insert into tickets (id, title) values (1, 'first'), (2, 'second');`,
    after: `create table tickets (id serial primary key, title text not null);`,
    survives: `select id, title from tickets order by id`,
  },
  {
    name: 'identity kept when another column is added',
    before: `create table tickets (id integer generated always as identity primary key, title text not null);`,
    seed: `insert into tickets (title) values ('first'), ('second');`,
    after: `create table tickets (id integer generated always as identity primary key, title text not null, closed boolean not null default false);`,
    survives: `select id, title from tickets order by id`,
  },
  {
    name: 'sequence added',
    before: `create table invoices (id integer primary key, amount numeric(10,2) not null);`,
    seed: `insert into invoices (id, amount) values (1, 9.99), (2, 20.00);`,
    after: `create sequence invoice_number_seq start with 1000 increment by 1;
create table invoices (id integer primary key, amount numeric(10,2) not null, number integer default nextval('invoice_number_seq'));`,
    survives: `select id, amount::text from invoices order by id`,
  },
  {
    name: 'sequence increment changed',
    before: `create sequence batch_seq start with 1 increment by 1;
create table batches (id integer primary key default nextval('batch_seq'), label text not null);`,
    seed: `insert into batches (label) values ('a'), ('b');`,
    after: `create sequence batch_seq start with 1 increment by 10;
create table batches (id integer primary key default nextval('batch_seq'), label text not null);`,
    survives: `select id, label from batches order by id`,
  },

  // ---- indexes -------------------------------------------------------------
  {
    name: 'add index',
    before: events,
    seed: eventsSeed,
    after: events + `create index events_user_id_idx on events (user_id);`,
    survives: eventsSurvive,
  },
  {
    name: 'add partial index',
    before: events,
    seed: eventsSeed,
    after: events + `create index events_logins_idx on events (user_id, created_at) where kind = 'login';`,
    survives: eventsSurvive,
  },
  {
    name: 'change index to multi-column',
    before: events + `create index events_user_idx on events (user_id);`,
    seed: eventsSeed,
    after: events + `create index events_user_idx on events (user_id, created_at desc);`,
    survives: eventsSurvive,
  },
  {
    name: 'drop index',
    before: events + `create index events_user_idx on events (user_id);`,
    seed: eventsSeed,
    after: events,
    survives: eventsSurvive,
  },
  {
    name: 'add unique index on an expression',
    before: accounts,
    seed: accountsSeed,
    after: accounts + `create unique index accounts_email_lower_key on accounts (lower(email));`,
    survives: `select id, name, email, balance::text from accounts order by id`,
  },

  // ---- constraints ---------------------------------------------------------
  {
    name: 'add foreign key',
    before: customersOrders.replace(' references customers (id) on delete restrict', ''),
    seed: customersOrdersSeed,
    after: customersOrders,
    survives: ordersSurvive,
  },
  {
    name: 'change foreign key ON DELETE action',
    before: customersOrders,
    seed: customersOrdersSeed,
    after: customersOrders.replace('on delete restrict', 'on delete cascade'),
    survives: ordersSurvive,
  },
  {
    name: 'drop foreign key',
    before: customersOrders,
    seed: customersOrdersSeed,
    after: customersOrders.replace(' references customers (id) on delete restrict', ''),
    survives: ordersSurvive,
  },
  {
    name: 'add unique constraint',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('balance numeric(10,2) not null default 0', 'balance numeric(10,2) not null default 0,\n  constraint accounts_name_key unique (name)'),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'add check constraint',
    before: accounts,
    seed: accountsSeed,
    after: accounts.replace('balance numeric(10,2) not null default 0', 'balance numeric(10,2) not null default 0,\n  constraint accounts_balance_check check (balance >= 0)'),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'change check constraint',
    before: accounts.replace('balance numeric(10,2) not null default 0', 'balance numeric(10,2) not null default 0,\n  constraint accounts_balance_check check (balance >= 0)'),
    seed: accountsSeed,
    after: accounts.replace('balance numeric(10,2) not null default 0', 'balance numeric(10,2) not null default 0,\n  constraint accounts_balance_check check (balance >= 0 and balance < 1000000)'),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'drop check constraint',
    before: accounts.replace('balance numeric(10,2) not null default 0', 'balance numeric(10,2) not null default 0,\n  constraint accounts_balance_check check (balance >= 0)'),
    seed: accountsSeed,
    after: accounts,
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'add primary key to a table without one',
    before: `create table tags (name text not null, color text);`,
    seed: `insert into tags (name, color) values ('red', '#f00'), ('blue', null);`,
    after: `create table tags (name text primary key, color text);`,
    survives: `select name, color from tags order by name`,
  },
  {
    name: 'extend composite primary key',
    before: `create table prices (symbol text not null, day date not null, close numeric(20,8) not null, source text not null default 'x', primary key (symbol, day));`,
    seed: `insert into prices (symbol, day, close) values ('BTC', '2026-01-01', 1.5), ('BTC', '2026-01-02', 1.6), ('ETH', '2026-01-01', 0.1);`,
    after: `create table prices (symbol text not null, day date not null, close numeric(20,8) not null, source text not null default 'x', primary key (symbol, day, source));`,
    survives: `select symbol, day::text, close::text, source from prices order by symbol, day`,
  },
  {
    name: 'foreign key made deferrable',
    before: customersOrders,
    seed: customersOrdersSeed,
    after: customersOrders.replace('on delete restrict', 'on delete restrict deferrable initially deferred'),
    survives: ordersSurvive,
  },
  {
    name: 'type of a referenced unique key changed',
    // not a known widening: sqlfirst treats it as possible data loss
    dataLoss: true,
    before: `create table products (id integer primary key, code text not null unique);
create table stock (id integer primary key, product_code text not null references products (code), qty integer not null);`,
    seed: `insert into products (id, code) values (1, 'A-1'), (2, 'B-2');
insert into stock (id, product_code, qty) values (1, 'A-1', 5), (2, 'B-2', 0);`,
    after: `create table products (id integer primary key, code varchar(10) not null unique);
create table stock (id integer primary key, product_code varchar(10) not null references products (code), qty integer not null);`,
    survives: `select s.id, s.product_code, s.qty, p.id as product_id from stock s join products p on p.code = s.product_code order by s.id`,
  },
  {
    name: 'domain check constraint changed',
    before: `create domain percentage as numeric(5,2) check (value >= 0 and value <= 100);
create table scores (id integer primary key, score percentage not null);`,
    seed: `insert into scores (id, score) values (1, 50), (2, 99.5);`,
    after: `create domain percentage as numeric(5,2) check (value >= 0 and value <= 200);
create table scores (id integer primary key, score percentage not null);`,
    survives: `select id, score::text from scores order by id`,
  },
  {
    name: 'row level security policy added',
    before: `create table notes (id integer primary key, owner text not null default current_user, body text not null);`,
    seed: `insert into notes (id, owner, body) values (1, 'postgres', 'a'), (2, 'someone', 'b');`,
    after: `create table notes (id integer primary key, owner text not null default current_user, body text not null);
alter table notes enable row level security;
create policy notes_owner on notes using (owner = current_user);`,
    survives: `select id, owner, body from notes order by id`,
  },

  // ---- enums ---------------------------------------------------------------
  {
    name: 'enum value added at the end',
    before: moodType + people,
    seed: peopleSeed,
    after: moodType.replace("'happy')", "'happy', 'ecstatic')") + people,
    survives: `select id, name, mood::text from people order by id`,
    nonTransactional: true,
  },
  {
    name: 'enum value added in the middle',
    before: moodType + people,
    seed: peopleSeed,
    after: moodType.replace("'sad', 'ok'", "'sad', 'meh', 'ok'") + people,
    survives: `select id, name, mood::text from people order by id`,
    nonTransactional: true,
  },
  {
    name: 'new enum type and a column using it',
    before: accounts,
    seed: accountsSeed,
    after: `create type account_tier as enum ('free', 'pro');\n` + accounts.replace('balance numeric(10,2) not null default 0', "balance numeric(10,2) not null default 0,\n  tier account_tier not null default 'free'"),
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'unused enum value removed (type recreated)',
    before: moodType.replace("'sad', 'ok'", "'sad', 'meh', 'ok'") + people,
    seed: peopleSeed,
    after: moodType + people,
    survives: `select id, name, mood::text from people order by id`,
    dataLoss: true,
  },

  // ---- views ---------------------------------------------------------------
  {
    name: 'view added',
    before: customersOrders,
    seed: customersOrdersSeed,
    after: customersOrders + `create view order_totals as select customer_id, sum(total) as total from orders group by customer_id;`,
    survives: ordersSurvive,
  },
  {
    name: 'view gets a new column',
    before: customersOrders + `create view big_orders as select id, customer_id from orders where total > 2;`,
    seed: customersOrdersSeed,
    after: customersOrders + `create view big_orders as select id, customer_id, total from orders where total > 2;`,
    survives: `select id, customer_id from big_orders order by id`,
  },
  {
    name: 'view loses a column',
    before: customersOrders + `create view big_orders as select id, customer_id, total from orders where total > 2;`,
    seed: customersOrdersSeed,
    after: customersOrders + `create view big_orders as select id, total from orders where total > 2;`,
    survives: `select id, total::text from big_orders order by id`,
  },
  {
    name: 'view dropped',
    before: customersOrders + `create view big_orders as select id, customer_id from orders where total > 2;`,
    seed: customersOrdersSeed,
    after: customersOrders,
    survives: ordersSurvive,
  },
  {
    name: 'column type changed under a view',
    before: `create table counters (id integer primary key, hits integer not null);
create view hot_counters as select id, hits from counters where hits > 10;`,
    seed: `insert into counters (id, hits) values (1, 5), (2, 50);`,
    after: `create table counters (id integer primary key, hits bigint not null);
create view hot_counters as select id, hits from counters where hits > 10;`,
    survives: `select id, hits::text from hot_counters order by id`,
  },
  {
    name: 'column dropped under a view',
    before: `create table counters (id integer primary key, hits integer not null, label text);
create view counter_labels as select id, hits, label from counters;`,
    seed: `insert into counters (id, hits, label) values (1, 5, 'a'), (2, 50, 'b');`,
    after: `create table counters (id integer primary key, hits integer not null);
create view counter_labels as select id, hits from counters;`,
    survives: `select id, hits from counter_labels order by id`,
    dataLoss: true,
  },
  {
    name: 'column type changed under a view of a view',
    before: `create table counters (id integer primary key, hits integer not null);
create view all_counters as select id, hits from counters;
create view hot_counters as select id, hits from all_counters where hits > 10;`,
    seed: `insert into counters (id, hits) values (1, 5), (2, 50);`,
    after: `create table counters (id integer primary key, hits bigint not null);
create view all_counters as select id, hits from counters;
create view hot_counters as select id, hits from all_counters where hits > 10;`,
    survives: `select id, hits::text from hot_counters order by id`,
  },
  {
    name: 'materialized view added',
    before: customersOrders,
    seed: customersOrdersSeed,
    after: customersOrders + `create materialized view customer_totals as select customer_id, count(*) as orders from orders group by customer_id;`,
    survives: ordersSurvive,
  },
  {
    name: 'materialized view definition changed (drop + create)',
    before: customersOrders + `create materialized view customer_totals as select customer_id, count(*) as orders from orders group by customer_id;`,
    seed: customersOrdersSeed,
    after: customersOrders + `create materialized view customer_totals as select customer_id, count(*) as orders, sum(total) as total from orders group by customer_id;`,
    survives: ordersSurvive,
    dataLoss: true,
  },

  // ---- partitions ----------------------------------------------------------
  {
    name: 'partition added',
    before: `create table measurements (sensor integer not null, taken_on date not null, value double precision not null, primary key (sensor, taken_on)) partition by range (taken_on);
create table measurements_2026 partition of measurements for values from ('2026-01-01') to ('2027-01-01');`,
    seed: `insert into measurements (sensor, taken_on, value) values (1, '2026-02-01', 1.5), (2, '2026-03-01', 2.5);`,
    after: `create table measurements (sensor integer not null, taken_on date not null, value double precision not null, primary key (sensor, taken_on)) partition by range (taken_on);
create table measurements_2026 partition of measurements for values from ('2026-01-01') to ('2027-01-01');
create table measurements_2027 partition of measurements for values from ('2027-01-01') to ('2028-01-01');`,
    survives: `select sensor, taken_on::text, value from measurements order by sensor, taken_on`,
  },

  // ---- functions and triggers ----------------------------------------------
  {
    name: 'function added',
    before: items,
    seed: itemsSeed,
    after: items + `create function price_with_vat(p numeric) returns numeric language sql immutable as $$ select round(p * 1.2, 2) $$;`,
    survives: `select id, name, price::text from items order by id`,
  },
  {
    name: 'function body changed',
    before: items + `create function price_with_vat(p numeric) returns numeric language sql immutable as $$ select round(p * 1.2, 2) $$;`,
    seed: itemsSeed,
    after: items + `create function price_with_vat(p numeric) returns numeric language sql immutable as $$ select round(p * 1.25, 2) $$;`,
    survives: `select id, name, price::text from items order by id`,
  },
  {
    name: 'function gets a new parameter',
    before: items + `create function price_with_vat(p numeric) returns numeric language sql immutable as $$ select round(p * 1.2, 2) $$;`,
    seed: itemsSeed,
    after: items + `create function price_with_vat(p numeric, rate numeric) returns numeric language sql immutable as $$ select round(p * (1 + rate), 2) $$;`,
    survives: `select id, name, price::text from items order by id`,
  },
  {
    name: 'trigger added',
    before: items + touchFunction,
    seed: itemsSeed,
    after: items + touchFunction + `create trigger items_touch before update on items for each row execute function touch();`,
    survives: `select id, name, price::text, updated_at::text from items order by id`,
  },
  {
    name: 'trigger removed',
    before: items + touchFunction + `create trigger items_touch before update on items for each row execute function touch();`,
    seed: itemsSeed,
    after: items + touchFunction,
    survives: `select id, name, price::text, updated_at::text from items order by id`,
  },
  {
    name: 'trigger events changed',
    before: items + touchFunction + `create trigger items_touch before update on items for each row execute function touch();`,
    seed: itemsSeed,
    after: items + touchFunction + `create trigger items_touch before insert or update on items for each row execute function touch();`,
    survives: `select id, name, price::text, updated_at::text from items order by id`,
  },
  {
    name: 'trigger function body changed',
    before: items + touchFunction + `create trigger items_touch before update on items for each row execute function touch();`,
    seed: itemsSeed,
    after: items + touchFunction.replace('new.updated_at := now();', "new.updated_at := now();\n  new.name := trim(new.name);") + `create trigger items_touch before update on items for each row execute function touch();`,
    survives: `select id, name, price::text, updated_at::text from items order by id`,
  },

  // ---- comments ------------------------------------------------------------
  {
    name: 'comment added',
    before: accounts,
    seed: accountsSeed,
    after: accounts + `comment on table accounts is 'Customer accounts';\ncomment on column accounts.balance is 'In EUR';`,
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'comment changed',
    before: accounts + `comment on column accounts.balance is 'In EUR';`,
    seed: accountsSeed,
    after: accounts + `comment on column accounts.balance is 'In USD';`,
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'comment removed',
    before: accounts + `comment on table accounts is 'Customer accounts';`,
    seed: accountsSeed,
    after: accounts,
    survives: `select id, name, email, balance::text from accounts order by id`,
  },

  // ---- schemas and new tables ----------------------------------------------
  {
    name: 'new schema with a table',
    before: accounts,
    seed: accountsSeed,
    after: accounts + `create schema billing;\ncreate table billing.invoices (id integer primary key, account_id integer not null references public.accounts (id), amount numeric(10,2) not null);`,
    survives: `select id, name, email, balance::text from accounts order by id`,
  },
  {
    name: 'new table with a foreign key to an existing table',
    before: customersOrders,
    seed: customersOrdersSeed,
    after: customersOrders + `create table order_notes (id integer generated always as identity primary key, order_id integer not null references orders (id) on delete cascade, body text not null);`,
    survives: ordersSurvive,
  },
  {
    name: 'new many-to-many join table',
    before: `create table posts (id integer primary key, title text not null);
create table tags (id integer primary key, name text not null unique);`,
    seed: `insert into posts (id, title) values (1, 'hello'), (2, 'world');
insert into tags (id, name) values (1, 'pg'), (2, 'ts');`,
    after: `create table posts (id integer primary key, title text not null);
create table tags (id integer primary key, name text not null unique);
create table post_tags (
  post_id integer not null references posts (id) on delete cascade,
  tag_id integer not null references tags (id) on delete cascade,
  primary key (post_id, tag_id)
);
create index post_tags_tag_id_idx on post_tags (tag_id);`,
    survives: `select p.id, p.title, (select string_agg(name, ',' order by id) from tags) as tags from posts p order by p.id`,
  },
  {
    name: 'numeric(20,8) narrowed to numeric(10,2) (rounds: data loss)',
    dataLoss: true,
    before: `create table prices (id integer primary key, label text not null, amount numeric(20,8) not null);`,
    seed: `insert into prices (id, label, amount) values (1, 'btc', 1.23456789), (2, 'eth', 2.5);`,
    after: `create table prices (id integer primary key, label text not null, amount numeric(10,2) not null);`,
    survives: `select id, label from prices order by id`,
  },
  {
    name: 'timestamptz changed to timestamp (drops the offset: data loss)',
    dataLoss: true,
    before: `create table events (id integer primary key, kind text not null, at timestamptz not null);`,
    seed: `insert into events (id, kind, at) values (1, 'open', '2026-01-01 10:00:00+02'), (2, 'close', '2026-01-02 10:00:00+00');`,
    after: `create table events (id integer primary key, kind text not null, at timestamp not null);`,
    survives: `select id, kind from events order by id`,
  },
];
