import crmContactMapping from './__fixtures__/crm-contact.mapping.json';
import hubspotContactMapping from './__fixtures__/hubspot-contact.mapping.json';
import { FieldErrorCode, FieldMapper, type FieldMappingInput } from './index';

function mapperFor(config: unknown): FieldMapper {
  const result = FieldMapper.fromConfig(config);
  if (!result.ok) throw new Error(`invalid mapping in test:\n${result.errors.join('\n')}`);
  return result.mapper;
}

const rules = (...items: FieldMappingInput) => mapperFor(items);

describe('FieldMapper', () => {
  describe('field rule', () => {
    it('renames both ways', () => {
      const mapper = rules({ kind: 'field', native: 'email_address', canonical: 'email' });
      expect(mapper.toCanonical({ email_address: 'a@b.co' })).toEqual({ values: { email: 'a@b.co' }, errors: [] });
      expect(mapper.toNative({ email: 'a@b.co' })).toEqual({ values: { email_address: 'a@b.co' }, errors: [] });
    });

    it('normalizes inbound in order and writes the canonical value back unchanged', () => {
      const mapper = rules({
        kind: 'field',
        native: 'email',
        canonical: 'email',
        transforms: [{ type: 'trim' }, { type: 'lowercase' }],
      });
      expect(mapper.toCanonical({ email: '  Ann@Example.COM ' }).values).toEqual({ email: 'ann@example.com' });
      expect(mapper.toNative({ email: 'ann@example.com' }).values).toEqual({ email: 'ann@example.com' });
    });

    it('uppercases inbound', () => {
      const mapper = rules({ kind: 'field', native: 'country', canonical: 'country', transforms: [{ type: 'uppercase' }] });
      expect(mapper.toCanonical({ country: 'de' }).values).toEqual({ country: 'DE' });
    });

    it('reads numeric strings as numbers and writes numbers as strings', () => {
      const mapper = rules({ kind: 'field', native: 'score', canonical: 'lead_score', transforms: [{ type: 'toNumber' }] });
      expect(mapper.toCanonical({ score: ' 042 ' }).values).toEqual({ lead_score: 42 });
      expect(mapper.toCanonical({ score: '-1.5e3' }).values).toEqual({ lead_score: -1500 });
      expect(mapper.toCanonical({ score: '' }).values).toEqual({ lead_score: null });
      expect(mapper.toCanonical({ score: -0 }).values['lead_score']).toBe(0);
      expect(mapper.toNative({ lead_score: 42.5 }).values).toEqual({ score: '42.5' });
    });

    it('reads numbers as strings and writes numeric strings as numbers', () => {
      const mapper = rules({ kind: 'field', native: 'zip', canonical: 'postal_code', transforms: [{ type: 'toString' }] });
      expect(mapper.toCanonical({ zip: 10115 }).values).toEqual({ postal_code: '10115' });
      expect(mapper.toNative({ postal_code: '10115' }).values).toEqual({ zip: 10115 });
      expect(mapper.toCanonical({ zip: '10115' }).errors).toEqual([
        { field: 'postal_code', code: FieldErrorCode.WrongType, reason: `native 'zip': "10115" is not a number` },
      ]);
      expect(mapper.toNative({ postal_code: 'Berlin' }).errors).toEqual([
        { field: 'zip', code: FieldErrorCode.NotANumber, reason: `canonical 'postal_code': "Berlin" is not a number` },
      ]);
    });

    it('maps enum values and their inverse', () => {
      const mapper = rules({
        kind: 'field',
        native: 'stage',
        canonical: 'stage',
        transforms: [{ type: 'enum', values: { '1': 'lead', '2': 'customer', vip: true } }],
      });
      expect(mapper.toCanonical({ stage: '2' }).values).toEqual({ stage: 'customer' });
      expect(mapper.toCanonical({ stage: 'vip' }).values).toEqual({ stage: true });
      expect(mapper.toNative({ stage: 'lead' }).values).toEqual({ stage: '1' });
      expect(mapper.toNative({ stage: true }).values).toEqual({ stage: 'vip' });
    });

    it('falls back to an inbound enum default for unlisted values', () => {
      const mapper = rules({
        kind: 'field',
        direction: 'inbound',
        native: 'status',
        canonical: 'status',
        transforms: [{ type: 'enum', values: { open: 'active', new: 'active' }, default: 'other' }],
      });
      expect(mapper.toCanonical({ status: 'new' }).values).toEqual({ status: 'active' });
      expect(mapper.toCanonical({ status: 'archived' }).values).toEqual({ status: 'other' });
      expect(mapper.toNative({ status: 'active' })).toEqual({ values: {}, errors: [] });
    });

    it('passes null through every transform', () => {
      const mapper = rules({
        kind: 'field',
        native: 'n',
        canonical: 'c',
        transforms: [{ type: 'trim' }, { type: 'toNumber' }],
      });
      expect(mapper.toCanonical({ n: null }).values).toEqual({ c: null });
      expect(mapper.toNative({ c: null }).values).toEqual({ n: null });
    });

    it('reports values a transform cannot take as field errors and maps the rest', () => {
      const mapper = rules(
        { kind: 'field', native: 'score', canonical: 'lead_score', transforms: [{ type: 'toNumber' }] },
        { kind: 'field', native: 'stage', canonical: 'stage', transforms: [{ type: 'enum', values: { a: 'lead' } }] },
        { kind: 'field', native: 'email', canonical: 'email', transforms: [{ type: 'trim' }] },
        { kind: 'field', native: 'name', canonical: 'name' },
      );
      expect(mapper.toCanonical({ score: 'abc', stage: 'zzz', email: 7, name: 'Ann' })).toEqual({
        values: { name: 'Ann' },
        errors: [
          { field: 'lead_score', code: FieldErrorCode.NotANumber, reason: `native 'score': "abc" is not a number` },
          { field: 'stage', code: FieldErrorCode.UnmappedValue, reason: `native 'stage': "zzz" is not one of the enum's values` },
          { field: 'email', code: FieldErrorCode.WrongType, reason: `native 'email': 7 is not a string` },
        ],
      });
      expect(mapper.toCanonical({ score: '1e999' }).errors).toEqual([
        { field: 'lead_score', code: FieldErrorCode.NotANumber, reason: `native 'score': "1e999" is not a number` },
      ]);
      expect(mapper.toNative({ lead_score: 'high', stage: 'customer' }).errors).toEqual([
        { field: 'score', code: FieldErrorCode.WrongType, reason: `canonical 'lead_score': "high" is not a number` },
        { field: 'stage', code: FieldErrorCode.UnmappedValue, reason: `canonical 'stage': "customer" is not one of the enum's values` },
      ]);
    });
  });

  describe('split rule', () => {
    const mapper = rules({ kind: 'split', native: 'full_name', canonical: ['first_name', 'last_name'] });

    it('gives the first token to the first field and the rest to the last', () => {
      expect(mapper.toCanonical({ full_name: '  Mary  Ann Smith ' }).values).toEqual({
        first_name: 'Mary',
        last_name: 'Ann Smith',
      });
    });

    it('leaves missing parts null', () => {
      expect(mapper.toCanonical({ full_name: 'Cher' }).values).toEqual({ first_name: 'Cher', last_name: null });
      expect(mapper.toCanonical({ full_name: '   ' }).values).toEqual({ first_name: null, last_name: null });
      expect(mapper.toCanonical({ full_name: null }).values).toEqual({ first_name: null, last_name: null });
    });

    it('joins outbound, skipping empty parts', () => {
      expect(mapper.toNative({ first_name: 'Mary', last_name: 'Smith' }).values).toEqual({ full_name: 'Mary Smith' });
      expect(mapper.toNative({ first_name: ' ', last_name: 'Smith' }).values).toEqual({ full_name: 'Smith' });
      expect(mapper.toNative({ first_name: null, last_name: null }).values).toEqual({ full_name: null });
    });

    it('needs every part to join and the whole value to split', () => {
      expect(mapper.toNative({ first_name: 'Mary' })).toEqual({ values: {}, errors: [] });
      expect(mapper.toCanonical({ email: 'x' })).toEqual({ values: {}, errors: [] });
    });

    it('uses the configured separator, across three parts', () => {
      const commas = rules({ kind: 'split', native: 'address', canonical: ['street', 'city', 'rest'], separator: ',' });
      expect(commas.toCanonical({ address: 'Main St 1, Berlin, DE, EU' }).values).toEqual({
        street: 'Main St 1',
        city: 'Berlin',
        rest: 'DE,EU',
      });
      expect(commas.toNative({ street: 'Main St 1', city: null, rest: 'DE' }).values).toEqual({ address: 'Main St 1,DE' });
    });

    it('reports a value that is not text', () => {
      expect(mapper.toCanonical({ full_name: 42 }).errors).toEqual([
        { field: 'first_name', code: FieldErrorCode.WrongType, reason: `native 'full_name': 42 is not a string` },
        { field: 'last_name', code: FieldErrorCode.WrongType, reason: `native 'full_name': 42 is not a string` },
      ]);
    });
  });

  describe('join rule', () => {
    const mapper = rules({ kind: 'join', native: ['firstname', 'lastname'], canonical: 'full_name' });

    it('joins inbound and splits outbound', () => {
      expect(mapper.toCanonical({ firstname: ' Mary ', lastname: 'Ann  Smith' }).values).toEqual({
        full_name: 'Mary Ann Smith',
      });
      expect(mapper.toCanonical({ firstname: null, lastname: '' }).values).toEqual({ full_name: null });
      expect(mapper.toNative({ full_name: 'Mary Ann Smith' }).values).toEqual({ firstname: 'Mary', lastname: 'Ann Smith' });
    });

    it('needs every native part to join', () => {
      expect(mapper.toCanonical({ firstname: 'Mary' })).toEqual({ values: {}, errors: [] });
    });

    it('reports a part that is not text', () => {
      expect(mapper.toCanonical({ firstname: 'Mary', lastname: true }).errors).toEqual([
        { field: 'full_name', code: FieldErrorCode.WrongType, reason: `native 'firstname', 'lastname': true is not a string` },
      ]);
    });
  });

  describe('formula rule', () => {
    const mapper = rules({
      kind: 'formula',
      direction: 'outbound',
      native: 'display_name',
      template: '{{first_name}} {{ last_name }} ({{lead_score}})',
    });

    it('fills placeholders outbound and never maps inbound', () => {
      expect(mapper.toNative({ first_name: 'Ann', last_name: 'Lee', lead_score: 7 }).values).toEqual({
        display_name: 'Ann Lee (7)',
      });
      expect(mapper.toCanonical({ display_name: 'Ann Lee (7)' })).toEqual({ values: {}, errors: [] });
    });

    it('renders null as empty and a blank result as null', () => {
      const names = rules({ kind: 'formula', direction: 'outbound', native: 'n', template: ' {{a}} {{b}} ' });
      expect(names.toNative({ a: 'Ann', b: null }).values).toEqual({ n: 'Ann' });
      expect(names.toNative({ a: null, b: '' }).values).toEqual({ n: null });
    });

    it('needs every referenced field', () => {
      expect(mapper.toNative({ first_name: 'Ann', last_name: 'Lee' })).toEqual({ values: {}, errors: [] });
    });
  });

  describe('condition rule', () => {
    const condition = (when: Record<string, unknown>) =>
      mapperFor([{ kind: 'condition', direction: 'outbound', native: 'out', when: { field: 'x', ...when }, then: 'yes', else: 'no' }]);
    const outFor = (mapper: FieldMapper, x: string | number | boolean | null) => mapper.toNative({ x }).values['out'];

    it.each([
      [{ op: 'gte', value: 50 }, 50, 'yes'],
      [{ op: 'gte', value: 50 }, 49, 'no'],
      [{ op: 'gt', value: 50 }, 50, 'no'],
      [{ op: 'gt', value: 50 }, 51, 'yes'],
      [{ op: 'lte', value: 50 }, 50, 'yes'],
      [{ op: 'lt', value: 50 }, 50, 'no'],
      [{ op: 'lt', value: 'm' }, 'a', 'yes'],
      [{ op: 'gt', value: 50 }, '99', 'no'],
      [{ op: 'gt', value: 50 }, null, 'no'],
      [{ op: 'eq', value: 'won' }, 'won', 'yes'],
      [{ op: 'eq', value: 'won' }, 'lost', 'no'],
      [{ op: 'eq', value: null }, null, 'yes'],
      [{ op: 'neq', value: 'won' }, 'lost', 'yes'],
      [{ op: 'neq', value: 1 }, '1', 'yes'],
      [{ op: 'empty' }, null, 'yes'],
      [{ op: 'empty' }, '  ', 'yes'],
      [{ op: 'empty' }, 0, 'no'],
      [{ op: 'not_empty' }, 'a', 'yes'],
      [{ op: 'not_empty' }, false, 'yes'],
      [{ op: 'not_empty' }, '', 'no'],
    ] as const)('%j on %j gives %s', (when, x, expected) => {
      expect(outFor(condition(when), x)).toBe(expected);
    });

    it('needs the tested field and never maps inbound', () => {
      const mapper = condition({ op: 'empty' });
      expect(mapper.toNative({ y: 1 })).toEqual({ values: {}, errors: [] });
      expect(mapper.toCanonical({ out: 'yes', x: 1 })).toEqual({ values: {}, errors: [] });
    });
  });

  describe('constant rule', () => {
    it('writes its value on every outbound mapping, and nothing inbound', () => {
      const mapper = rules({ kind: 'constant', direction: 'outbound', native: 'source', value: 'tandem' });
      expect(mapper.toNative({}).values).toEqual({ source: 'tandem' });
      expect(mapper.toCanonical({ source: 'tandem' }).values).toEqual({});
    });
  });

  describe('direction', () => {
    it('skips inbound-only rules outbound and outbound-only rules inbound', () => {
      const mapper = rules(
        { kind: 'field', direction: 'inbound', native: 'created', canonical: 'created_at' },
        { kind: 'field', direction: 'outbound', native: 'owner', canonical: 'owner_email' },
      );
      expect(mapper.toCanonical({ created: 'x', owner: 'y' }).values).toEqual({ created_at: 'x' });
      expect(mapper.toNative({ created_at: 'x', owner_email: 'y' }).values).toEqual({ owner: 'y' });
    });
  });

  it('keeps odd field names as data', () => {
    const mapper = rules(
      { kind: 'field', native: 'constructor', canonical: '__proto__' },
      { kind: 'field', native: 'toString', canonical: 'valueOf' },
    );
    const { values } = mapper.toCanonical({ constructor: 'a' });
    expect(Object.keys(values)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    expect(mapper.toNative({})).toEqual({ values: {}, errors: [] });
  });

  describe('CRM contact mapping', () => {
    const crm = mapperFor(crmContactMapping);

    it('maps a CRM row to canonical fields and back', () => {
      const row = { id: 17, full_name: 'Ada  King Lovelace', email: ' Ada@Example.com', phone: ' +44 20 ', notes: 'met at expo' };
      const canonical = crm.toCanonical(row);
      expect(canonical).toEqual({
        values: {
          first_name: 'Ada',
          last_name: 'King Lovelace',
          email: 'ada@example.com',
          phone: '+44 20',
          notes: 'met at expo',
        },
        errors: [],
      });
      expect(crm.toNative(canonical.values)).toEqual({
        values: { full_name: 'Ada King Lovelace', email: 'ada@example.com', phone: '+44 20', notes: 'met at expo' },
        errors: [],
      });
    });

    it('maps a partial change to only the fields it determines', () => {
      expect(crm.toCanonical({ email: 'NEW@example.com' }).values).toEqual({ email: 'new@example.com' });
      expect(crm.toNative({ notes: 'call back', first_name: 'Ada' }).values).toEqual({ notes: 'call back' });
    });

    it('lists its fields and their dependencies', () => {
      expect(crm.nativeFields).toEqual(['full_name', 'email', 'phone', 'notes']);
      expect(crm.canonicalFields).toEqual(['first_name', 'last_name', 'email', 'phone', 'notes']);
      expect(crm.canonicalFieldsAffectedBy(['full_name', 'id'])).toEqual(['first_name', 'last_name']);
      expect(crm.nativeFieldsAffectedBy(['last_name', 'email'])).toEqual(['full_name', 'email']);
      expect(crm.nativeFieldsAffectedBy(['company'])).toEqual([]);
    });
  });

  describe('HubSpot contact mapping', () => {
    const hubspot = mapperFor(hubspotContactMapping);

    it('maps HubSpot properties to canonical fields', () => {
      expect(
        hubspot.toCanonical({
          firstname: 'Ada ',
          lastname: 'Lovelace',
          email: 'ADA@example.com ',
          phone: '+44 20',
          hs_lead_status: 'IN_PROGRESS',
          num_employees: '120',
          hs_object_id: '901',
        }),
      ).toEqual({
        values: {
          first_name: 'Ada',
          last_name: 'Lovelace',
          email: 'ada@example.com',
          phone: '+44 20',
          lead_status: 'working',
          employee_count: 120,
        },
        errors: [],
      });
    });

    it('maps canonical fields to HubSpot properties, including the one-way ones', () => {
      expect(
        hubspot.toNative({
          first_name: 'Ada',
          last_name: 'Lovelace',
          email: 'ada@example.com',
          lead_status: 'disqualified',
          employee_count: 120,
          lead_score: 72,
        }).values,
      ).toEqual({
        firstname: 'Ada',
        lastname: 'Lovelace',
        email: 'ada@example.com',
        hs_lead_status: 'UNQUALIFIED',
        num_employees: '120',
        display_name: 'Ada Lovelace',
        lifecyclestage: 'marketingqualifiedlead',
        hs_analytics_source: 'tandem',
      });
    });

    it('knows which HubSpot properties a canonical change touches', () => {
      expect(hubspot.nativeFieldsAffectedBy(['first_name'])).toEqual(['firstname', 'display_name']);
      expect(hubspot.nativeFieldsAffectedBy(['lead_score'])).toEqual(['lifecyclestage']);
      expect(hubspot.canonicalFieldsAffectedBy(['display_name', 'lifecyclestage'])).toEqual([]);
      expect(hubspot.canonicalFieldsAffectedBy(['firstname'])).toEqual(['first_name']);
    });

    it('maps CRM records to HubSpot through the canonical model', () => {
      const crm = mapperFor(crmContactMapping);
      const canonical = crm.toCanonical({ full_name: 'Grace Brewster Hopper', email: 'Grace@Navy.mil' }).values;
      expect(hubspot.toNative(canonical).values).toEqual({
        firstname: 'Grace',
        lastname: 'Brewster Hopper',
        email: 'grace@navy.mil',
        display_name: 'Grace Brewster Hopper',
        hs_analytics_source: 'tandem',
      });
    });
  });
});
