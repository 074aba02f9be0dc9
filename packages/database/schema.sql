-- =============================================================================
-- Livermore database schema
--
-- This file is the ONLY place schema is written. It is declarative: it says what
-- the database must look like, not how to get there. Do not write migrations,
-- do not run drizzle-kit generate/push/migrate, and do not edit the generated
-- Drizzle files in src/schema/ by hand.
--
-- To apply it to your local database and regenerate the Drizzle types:
--
--     npm run db:sync
--
-- sqlfirst loads this file into a throwaway shadow database, compares it with the
-- live database, shows the plan and applies it. The file is loaded as a single
-- transaction and statements are NOT reordered, so keep it in dependency order:
-- schemas and types first, then tables (referenced before referencing), then
-- indexes, views, functions, triggers and comments.
--
-- Targets PostgreSQL 15 and later. No extensions (gen_random_uuid() is built in).
-- Avoid bytea and range types: drizzle-kit cannot map them.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- Schemas
-- -----------------------------------------------------------------------------

CREATE SCHEMA audit;

COMMENT ON SCHEMA audit IS 'Append-only history of changes to trading data.';


-- -----------------------------------------------------------------------------
-- Enumerated types
-- -----------------------------------------------------------------------------

CREATE TYPE user_role AS ENUM ('trader', 'admin', 'read_only');

CREATE TYPE instrument_kind AS ENUM ('spot', 'perpetual', 'future', 'option');

CREATE TYPE candle_interval AS ENUM ('1m', '5m', '15m', '1h', '4h', '1d', '1w');

CREATE TYPE order_side AS ENUM ('buy', 'sell');

CREATE TYPE order_type AS ENUM ('market', 'limit', 'stop', 'stop_limit');

CREATE TYPE order_status AS ENUM (
  'pending',
  'open',
  'partially_filled',
  'filled',
  'cancelled',
  'rejected',
  'expired'
);

CREATE TYPE time_in_force AS ENUM ('gtc', 'ioc', 'fok', 'day');

CREATE TYPE alert_condition AS ENUM ('price_above', 'price_below', 'percent_change');

CREATE TYPE alert_status AS ENUM ('active', 'triggered', 'disabled');

CREATE TYPE audit_action AS ENUM ('insert', 'update', 'delete');


-- -----------------------------------------------------------------------------
-- Users and exchanges
-- -----------------------------------------------------------------------------

CREATE TABLE users (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text        NOT NULL,
  display_name  varchar(100) NOT NULL,
  role          user_role   NOT NULL DEFAULT 'trader',
  time_zone     text        NOT NULL DEFAULT 'UTC',
  is_active     boolean     NOT NULL DEFAULT true,
  last_login_at timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_email_format_check CHECK (email ~ '^[^@\s]+@[^@\s]+$')
);

-- case-insensitive uniqueness without the citext extension
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE exchanges (
  id            integer      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code          varchar(32)  NOT NULL,
  name          varchar(100) NOT NULL,
  api_base_url  text         NOT NULL,
  ws_url        text,
  maker_fee_bps numeric(8,4) NOT NULL DEFAULT 0,
  taker_fee_bps numeric(8,4) NOT NULL DEFAULT 0,
  is_enabled    boolean      NOT NULL DEFAULT true,
  created_at    timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT exchanges_code_key UNIQUE (code),
  CONSTRAINT exchanges_code_format_check CHECK (code ~ '^[a-z0-9_]+$'),
  CONSTRAINT exchanges_fees_check CHECK (maker_fee_bps >= -100 AND taker_fee_bps >= 0)
);

CREATE TABLE user_api_keys (
  id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id              uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  exchange_id          integer     NOT NULL REFERENCES exchanges (id) ON DELETE RESTRICT,
  label                varchar(64) NOT NULL,
  api_key_ciphertext   text        NOT NULL,
  api_secret_ciphertext text       NOT NULL,
  passphrase_ciphertext text,
  key_fingerprint      char(16)    NOT NULL,
  can_trade            boolean     NOT NULL DEFAULT false,
  can_withdraw         boolean     NOT NULL DEFAULT false,
  revoked_at           timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_api_keys_user_exchange_label_key UNIQUE (user_id, exchange_id, label),
  CONSTRAINT user_api_keys_no_withdraw_check CHECK (NOT can_withdraw)
);

CREATE INDEX user_api_keys_active_idx
  ON user_api_keys (user_id, exchange_id)
  WHERE revoked_at IS NULL;


-- -----------------------------------------------------------------------------
-- Market reference data
-- -----------------------------------------------------------------------------

CREATE TABLE assets (
  id         integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  symbol     varchar(16) NOT NULL,
  name       varchar(100) NOT NULL,
  decimals   smallint    NOT NULL DEFAULT 8,
  is_fiat    boolean     NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT assets_symbol_key UNIQUE (symbol),
  CONSTRAINT assets_decimals_check CHECK (decimals BETWEEN 0 AND 18)
);

CREATE TABLE instruments (
  id              integer         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  exchange_id     integer         NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
  symbol          varchar(32)     NOT NULL,
  kind            instrument_kind NOT NULL DEFAULT 'spot',
  base_asset_id   integer         NOT NULL REFERENCES assets (id) ON DELETE RESTRICT,
  quote_asset_id  integer         NOT NULL REFERENCES assets (id) ON DELETE RESTRICT,
  tick_size       numeric(20,8)   NOT NULL,
  lot_size        numeric(20,8)   NOT NULL,
  min_notional    numeric(20,8),
  is_tradable     boolean         NOT NULL DEFAULT true,
  listed_at       timestamptz,
  delisted_at     timestamptz,
  created_at      timestamptz     NOT NULL DEFAULT now(),
  CONSTRAINT instruments_exchange_symbol_key UNIQUE (exchange_id, symbol),
  CONSTRAINT instruments_distinct_assets_check CHECK (base_asset_id <> quote_asset_id),
  CONSTRAINT instruments_tick_size_check CHECK (tick_size > 0),
  CONSTRAINT instruments_lot_size_check CHECK (lot_size > 0),
  CONSTRAINT instruments_listing_dates_check CHECK (delisted_at IS NULL OR listed_at IS NULL OR delisted_at > listed_at)
);

CREATE INDEX instruments_base_quote_idx ON instruments (base_asset_id, quote_asset_id);

CREATE INDEX instruments_tradable_idx ON instruments (exchange_id) WHERE is_tradable;

CREATE TABLE candles (
  instrument_id integer         NOT NULL REFERENCES instruments (id) ON DELETE CASCADE,
  interval      candle_interval NOT NULL,
  open_time     timestamptz     NOT NULL,
  open          numeric(20,8)   NOT NULL,
  high          numeric(20,8)   NOT NULL,
  low           numeric(20,8)   NOT NULL,
  close         numeric(20,8)   NOT NULL,
  volume        numeric(28,8)   NOT NULL DEFAULT 0,
  trade_count   integer,
  CONSTRAINT candles_pkey PRIMARY KEY (instrument_id, interval, open_time),
  CONSTRAINT candles_range_check CHECK (low <= high AND open BETWEEN low AND high AND close BETWEEN low AND high),
  CONSTRAINT candles_volume_check CHECK (volume >= 0)
);

-- "latest N candles" queries scan backwards by time
CREATE INDEX candles_open_time_idx ON candles (open_time DESC);


-- -----------------------------------------------------------------------------
-- Trading accounts, orders, fills, positions, balances
-- -----------------------------------------------------------------------------

CREATE TABLE trading_accounts (
  id          integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  exchange_id integer     NOT NULL REFERENCES exchanges (id) ON DELETE RESTRICT,
  api_key_id  uuid        REFERENCES user_api_keys (id) ON DELETE SET NULL,
  name        varchar(64) NOT NULL,
  is_paper    boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT trading_accounts_user_name_key UNIQUE (user_id, name)
);

CREATE INDEX trading_accounts_exchange_idx ON trading_accounts (exchange_id);

CREATE TABLE strategies (
  id          integer      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     uuid         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name        varchar(100) NOT NULL,
  description text,
  parameters  jsonb        NOT NULL DEFAULT '{}'::jsonb,
  is_active   boolean      NOT NULL DEFAULT false,
  created_at  timestamptz  NOT NULL DEFAULT now(),
  updated_at  timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT strategies_user_name_key UNIQUE (user_id, name),
  CONSTRAINT strategies_parameters_object_check CHECK (jsonb_typeof(parameters) = 'object')
);

CREATE TABLE orders (
  id                uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id        integer       NOT NULL REFERENCES trading_accounts (id) ON DELETE CASCADE,
  instrument_id     integer       NOT NULL REFERENCES instruments (id) ON DELETE RESTRICT,
  strategy_id       integer       REFERENCES strategies (id) ON DELETE SET NULL,
  client_order_id   varchar(64)   NOT NULL,
  exchange_order_id varchar(128),
  side              order_side    NOT NULL,
  type              order_type    NOT NULL DEFAULT 'limit',
  status            order_status  NOT NULL DEFAULT 'pending',
  time_in_force     time_in_force NOT NULL DEFAULT 'gtc',
  quantity          numeric(20,8) NOT NULL,
  price             numeric(20,8),
  stop_price        numeric(20,8),
  filled_quantity   numeric(20,8) NOT NULL DEFAULT 0,
  average_price     numeric(20,8),
  reduce_only       boolean       NOT NULL DEFAULT false,
  reject_reason     text,
  submitted_at      timestamptz,
  closed_at         timestamptz,
  created_at        timestamptz   NOT NULL DEFAULT now(),
  updated_at        timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT orders_account_client_order_key UNIQUE (account_id, client_order_id),
  CONSTRAINT orders_quantity_check CHECK (quantity > 0),
  CONSTRAINT orders_filled_quantity_check CHECK (filled_quantity >= 0 AND filled_quantity <= quantity),
  CONSTRAINT orders_limit_price_check CHECK (type NOT IN ('limit', 'stop_limit') OR price IS NOT NULL),
  CONSTRAINT orders_stop_price_check CHECK (type NOT IN ('stop', 'stop_limit') OR stop_price IS NOT NULL)
);

-- the order book view of a user: open orders only
CREATE INDEX orders_open_idx
  ON orders (account_id, instrument_id)
  WHERE status IN ('pending', 'open', 'partially_filled');

CREATE INDEX orders_account_created_idx ON orders (account_id, created_at DESC);

CREATE UNIQUE INDEX orders_exchange_order_id_key
  ON orders (instrument_id, exchange_order_id)
  WHERE exchange_order_id IS NOT NULL;

CREATE TABLE fills (
  id                bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id          uuid          NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  exchange_trade_id varchar(128)  NOT NULL,
  price             numeric(20,8) NOT NULL,
  quantity          numeric(20,8) NOT NULL,
  notional          numeric(38,16) GENERATED ALWAYS AS (price * quantity) STORED,
  fee               numeric(20,8) NOT NULL DEFAULT 0,
  fee_asset_id      integer       REFERENCES assets (id) ON DELETE SET NULL,
  is_maker          boolean       NOT NULL DEFAULT false,
  executed_at       timestamptz   NOT NULL,
  created_at        timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT fills_order_trade_key UNIQUE (order_id, exchange_trade_id),
  CONSTRAINT fills_price_check CHECK (price > 0),
  CONSTRAINT fills_quantity_check CHECK (quantity > 0)
);

CREATE INDEX fills_executed_at_idx ON fills (executed_at);

CREATE TABLE positions (
  id              bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id      integer       NOT NULL REFERENCES trading_accounts (id) ON DELETE CASCADE,
  instrument_id   integer       NOT NULL REFERENCES instruments (id) ON DELETE RESTRICT,
  quantity        numeric(20,8) NOT NULL,
  avg_entry_price numeric(20,8) NOT NULL,
  realized_pnl    numeric(20,8) NOT NULL DEFAULT 0,
  opened_at       timestamptz   NOT NULL DEFAULT now(),
  closed_at       timestamptz,
  updated_at      timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT positions_entry_price_check CHECK (avg_entry_price >= 0),
  CONSTRAINT positions_closed_check CHECK (closed_at IS NULL OR closed_at >= opened_at)
);

-- at most one open position per account and instrument
CREATE UNIQUE INDEX positions_one_open_key
  ON positions (account_id, instrument_id)
  WHERE closed_at IS NULL;

CREATE TABLE balances (
  account_id integer       NOT NULL REFERENCES trading_accounts (id) ON DELETE CASCADE,
  asset_id   integer       NOT NULL REFERENCES assets (id) ON DELETE RESTRICT,
  free       numeric(28,8) NOT NULL DEFAULT 0,
  locked     numeric(28,8) NOT NULL DEFAULT 0,
  updated_at timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT balances_pkey PRIMARY KEY (account_id, asset_id),
  CONSTRAINT balances_non_negative_check CHECK (free >= 0 AND locked >= 0)
);


-- -----------------------------------------------------------------------------
-- Watchlists and alerts
-- -----------------------------------------------------------------------------

CREATE TABLE watchlists (
  id         integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name       varchar(64) NOT NULL,
  is_default boolean     NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT watchlists_user_name_key UNIQUE (user_id, name)
);

-- one default watchlist per user
CREATE UNIQUE INDEX watchlists_one_default_key ON watchlists (user_id) WHERE is_default;

CREATE TABLE watchlist_items (
  watchlist_id  integer     NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
  instrument_id integer     NOT NULL REFERENCES instruments (id) ON DELETE CASCADE,
  sort_order    integer     NOT NULL DEFAULT 0,
  note          text,
  added_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT watchlist_items_pkey PRIMARY KEY (watchlist_id, instrument_id)
);

CREATE INDEX watchlist_items_instrument_idx ON watchlist_items (instrument_id);

CREATE TABLE alerts (
  id            bigint          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id       uuid            NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  instrument_id integer         NOT NULL REFERENCES instruments (id) ON DELETE CASCADE,
  condition     alert_condition NOT NULL,
  threshold     numeric(20,8)   NOT NULL,
  status        alert_status    NOT NULL DEFAULT 'active',
  message       varchar(280),
  repeat        boolean         NOT NULL DEFAULT false,
  triggered_at  timestamptz,
  expires_at    timestamptz,
  created_at    timestamptz     NOT NULL DEFAULT now(),
  updated_at    timestamptz     NOT NULL DEFAULT now(),
  CONSTRAINT alerts_triggered_check CHECK (status <> 'triggered' OR triggered_at IS NOT NULL)
);

-- the alert evaluator only looks at active alerts for an instrument
CREATE INDEX alerts_active_instrument_idx
  ON alerts (instrument_id, condition, threshold)
  WHERE status = 'active';

CREATE INDEX alerts_user_idx ON alerts (user_id);

CREATE TABLE notification_channels (
  id          integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- text, not varchar: a varchar IN (...) check does not survive a round trip
  -- through pg_get_constraintdef, so it would show up as a change on every plan
  kind        text        NOT NULL,
  destination text        NOT NULL,
  verified_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT notification_channels_kind_check CHECK (kind IN ('email', 'telegram', 'webhook', 'push')),
  CONSTRAINT notification_channels_user_kind_destination_key UNIQUE (user_id, kind, destination)
);


-- -----------------------------------------------------------------------------
-- Audit log (schema audit)
-- -----------------------------------------------------------------------------

CREATE TABLE audit.events (
  id            bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at   timestamptz  NOT NULL DEFAULT now(),
  actor_user_id uuid         REFERENCES public.users (id) ON DELETE SET NULL,
  schema_name   text         NOT NULL,
  table_name    text         NOT NULL,
  action        public.audit_action NOT NULL,
  row_key       text         NOT NULL,
  old_data      jsonb,
  new_data      jsonb,
  client_info   jsonb        NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT events_data_check CHECK (
    (action = 'insert' AND old_data IS NULL AND new_data IS NOT NULL)
    OR (action = 'update' AND old_data IS NOT NULL AND new_data IS NOT NULL)
    OR (action = 'delete' AND old_data IS NOT NULL AND new_data IS NULL)
  )
);

CREATE INDEX events_table_occurred_idx ON audit.events (schema_name, table_name, occurred_at DESC);

CREATE INDEX events_actor_idx ON audit.events (actor_user_id) WHERE actor_user_id IS NOT NULL;


-- -----------------------------------------------------------------------------
-- Views
-- -----------------------------------------------------------------------------

CREATE VIEW open_positions AS
SELECT
  p.id,
  p.account_id,
  a.user_id,
  e.code AS exchange_code,
  i.symbol,
  i.kind AS instrument_kind,
  p.quantity,
  p.avg_entry_price,
  p.quantity * p.avg_entry_price AS cost_basis,
  p.realized_pnl,
  p.opened_at
FROM positions p
JOIN trading_accounts a ON a.id = p.account_id
JOIN instruments i ON i.id = p.instrument_id
JOIN exchanges e ON e.id = i.exchange_id
WHERE p.closed_at IS NULL;

CREATE VIEW open_orders AS
SELECT
  o.id,
  o.account_id,
  i.symbol,
  o.side,
  o.type,
  o.status,
  o.quantity,
  o.filled_quantity,
  o.quantity - o.filled_quantity AS remaining_quantity,
  o.price,
  o.created_at
FROM orders o
JOIN instruments i ON i.id = o.instrument_id
WHERE o.status IN ('pending', 'open', 'partially_filled');


-- -----------------------------------------------------------------------------
-- Functions and triggers
-- -----------------------------------------------------------------------------

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

CREATE TRIGGER users_set_updated_at
  BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER user_api_keys_set_updated_at
  BEFORE UPDATE ON user_api_keys
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER trading_accounts_set_updated_at
  BEFORE UPDATE ON trading_accounts
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER strategies_set_updated_at
  BEFORE UPDATE ON strategies
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER orders_set_updated_at
  BEFORE UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER positions_set_updated_at
  BEFORE UPDATE ON positions
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER balances_set_updated_at
  BEFORE UPDATE ON balances
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TRIGGER alerts_set_updated_at
  BEFORE UPDATE ON alerts
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE FUNCTION audit.record_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO audit.events (schema_name, table_name, action, row_key, old_data, new_data)
  VALUES (
    TG_TABLE_SCHEMA,
    TG_TABLE_NAME,
    lower(TG_OP)::public.audit_action,
    CASE WHEN TG_OP = 'DELETE' THEN OLD.id::text ELSE NEW.id::text END,
    CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
    CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END
  );
  RETURN NULL;
END;
$$;

COMMENT ON FUNCTION audit.record_change() IS 'AFTER row trigger: writes one audit.events row per change. The audited table must have an id column.';

CREATE TRIGGER orders_audit
  AFTER INSERT OR UPDATE OR DELETE ON orders
  FOR EACH ROW EXECUTE FUNCTION audit.record_change();

CREATE TRIGGER positions_audit
  AFTER INSERT OR UPDATE OR DELETE ON positions
  FOR EACH ROW EXECUTE FUNCTION audit.record_change();


-- -----------------------------------------------------------------------------
-- Comments
-- -----------------------------------------------------------------------------

COMMENT ON TABLE users IS 'People who sign in to Livermore.';
COMMENT ON COLUMN users.email IS 'Login e-mail; unique regardless of case (users_email_lower_key).';
COMMENT ON COLUMN users.time_zone IS 'IANA time zone name used to display times, e.g. Europe/Paris.';

COMMENT ON TABLE exchanges IS 'Trading venues Livermore connects to.';
COMMENT ON COLUMN exchanges.code IS 'Stable lowercase identifier used in code and URLs, e.g. coinbase.';
COMMENT ON COLUMN exchanges.maker_fee_bps IS 'Default maker fee in basis points; may be negative (rebate).';

COMMENT ON TABLE user_api_keys IS 'A user''s API credentials for one exchange, encrypted by the application.';
COMMENT ON COLUMN user_api_keys.api_key_ciphertext IS 'Base64 AES-GCM ciphertext of the API key; never stored in clear.';
COMMENT ON COLUMN user_api_keys.api_secret_ciphertext IS 'Base64 AES-GCM ciphertext of the API secret; never stored in clear.';
COMMENT ON COLUMN user_api_keys.key_fingerprint IS 'First 16 hex characters of SHA-256 of the clear API key, to recognise a key without decrypting it.';

COMMENT ON TABLE assets IS 'Currencies and tokens (BTC, USD, ...).';

COMMENT ON TABLE instruments IS 'Tradable markets on an exchange, e.g. BTC-USD spot on coinbase.';
COMMENT ON COLUMN instruments.tick_size IS 'Smallest price increment.';
COMMENT ON COLUMN instruments.lot_size IS 'Smallest quantity increment.';

COMMENT ON TABLE candles IS 'OHLCV bars, one per instrument, interval and open time.';
COMMENT ON COLUMN candles.open_time IS 'Start of the bar (inclusive), UTC.';

COMMENT ON TABLE trading_accounts IS 'An account of a user on an exchange, live or paper.';

COMMENT ON TABLE strategies IS 'Automated trading strategies and their parameters.';

COMMENT ON TABLE orders IS 'Orders sent (or to be sent) to an exchange.';
COMMENT ON COLUMN orders.client_order_id IS 'Idempotency key we send to the exchange; unique per account.';
COMMENT ON COLUMN orders.filled_quantity IS 'Sum of fills.quantity for this order, maintained by the order tracker.';

COMMENT ON TABLE fills IS 'Executions (trades) reported by the exchange for an order.';
COMMENT ON COLUMN fills.notional IS 'price * quantity, computed by the database.';

COMMENT ON TABLE positions IS 'Net exposure per account and instrument; closed_at is set when the position goes flat.';

COMMENT ON TABLE balances IS 'Asset balances per trading account, as last reported by the exchange.';

COMMENT ON TABLE watchlists IS 'Named lists of instruments a user follows.';
COMMENT ON TABLE watchlist_items IS 'Instruments in a watchlist.';

COMMENT ON TABLE alerts IS 'Price alerts evaluated against incoming market data.';

COMMENT ON TABLE notification_channels IS 'Where a user receives alerts and notices.';

COMMENT ON TABLE audit.events IS 'One row per audited insert, update or delete; written by audit.record_change().';
COMMENT ON COLUMN audit.events.row_key IS 'Primary key of the changed row, as text.';

COMMENT ON VIEW open_positions IS 'Positions not yet closed, with exchange and instrument symbol.';
COMMENT ON VIEW open_orders IS 'Orders still working on the exchange.';

COMMENT ON FUNCTION set_updated_at() IS 'BEFORE UPDATE row trigger: sets updated_at to now().';
