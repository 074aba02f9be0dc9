import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadModule } from 'libpg-query';
import { quoteIdentifier, unqualifyPublic } from './catalog.js';

describe('catalog SQL text', () => {
  before(() => loadModule());

  it('prints names as a session with public on its search_path does', () => {
    assert.equal(unqualifyPublic("(status = 'active'::public.alert_status)"), "(status = 'active'::alert_status)");
    assert.equal(unqualifyPublic("nextval('public.batch_seq'::regclass)"), "nextval('batch_seq'::regclass)");
    // other schemas, string literals, quoted identifiers and column names stay as they are
    assert.equal(unqualifyPublic("audit.f(x) || 'public.x' || \"public\".y || t.public"), "audit.f(x) || 'public.x' || \"public\".y || t.public");
    assert.equal(unqualifyPublic("'é' || public.f('public.t'::text)"), "'é' || f('public.t'::text)");
  });

  it('quotes an identifier only when PostgreSQL would', () => {
    assert.equal(quoteIdentifier('events_id_seq'), 'events_id_seq');
    assert.equal(quoteIdentifier('user'), '"user"');
    assert.equal(quoteIdentifier('name'), 'name');
    assert.equal(quoteIdentifier('Mixed'), '"Mixed"');
  });
});
