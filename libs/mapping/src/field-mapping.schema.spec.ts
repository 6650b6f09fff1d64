import { FieldMapper, FieldMappingSchema } from './index';

function errorsFor(config: unknown): string[] {
  const result = FieldMapper.fromConfig(config);
  if (result.ok) throw new Error('expected the mapping to be rejected');
  return result.errors;
}

const email = { kind: 'field', native: 'email', canonical: 'email' };
const twoActives = { type: 'enum', values: { open: 'active', new: 'active', lost: 'closed' } };

describe('FieldMappingSchema', () => {
  it('fills in the defaults', () => {
    expect(
      FieldMappingSchema.parse([email, { kind: 'split', native: 'full_name', canonical: ['first_name', 'last_name'] }]),
    ).toEqual([
      { kind: 'field', direction: 'both', native: 'email', canonical: 'email', transforms: [] },
      { kind: 'split', direction: 'both', native: 'full_name', canonical: ['first_name', 'last_name'], separator: ' ' },
    ]);
  });

  it('accepts an empty mapping', () => {
    expect(FieldMapper.fromConfig([]).ok).toBe(true);
  });

  describe('inverses', () => {
    it('rejects a two-way rule whose enum maps two values to one, naming the rule', () => {
      const status = { kind: 'field', native: 'status', canonical: 'status', transforms: [twoActives] };
      expect(errorsFor([email, { kind: 'field', native: 'phone', canonical: 'phone' }, status])).toEqual([
        "rule 3 (native 'status'): enum maps 'open' and 'new' to 'active', so it has no inverse; declare direction 'inbound'",
      ]);
    });

    it('accepts the same enum inbound only', () => {
      const status = { kind: 'field', direction: 'inbound', native: 'status', canonical: 'status', transforms: [twoActives] };
      expect(FieldMapper.fromConfig([status]).ok).toBe(true);
    });

    it('rejects it outbound, which applies the inverse', () => {
      const status = { kind: 'field', direction: 'outbound', native: 'status', canonical: 'status', transforms: [twoActives] };
      expect(errorsFor([status])).toEqual([
        "rule 1 (native 'status'): enum maps 'open' and 'new' to 'active', so it has no inverse, which an outbound rule needs",
      ]);
    });

    it('keeps values of different types apart when checking an enum', () => {
      const transforms = [{ type: 'enum', values: { a: 1, b: '1', c: true, d: 'true' } }];
      expect(FieldMapper.fromConfig([{ kind: 'field', native: 's', canonical: 's', transforms }]).ok).toBe(true);
    });

    it('rejects a two-way enum with a default', () => {
      const transforms = [{ type: 'enum', values: { a: 'x' }, default: 'other' }];
      expect(errorsFor([{ kind: 'field', native: 's', canonical: 's', transforms }])).toEqual([
        "rule 1 (native 's'): enum default 'other' stands for every unlisted value, so it has no inverse; declare direction 'inbound'",
      ]);
    });
  });

  it('rejects transforms that cannot follow each other', () => {
    expect(
      errorsFor([{ kind: 'field', native: 'n', canonical: 'n', transforms: [{ type: 'toNumber' }, { type: 'trim' }] }]),
    ).toEqual(["rule 1 (native 'n'): transform 2 ('trim') expects a string but 'toNumber' before it yields a number"]);
    expect(
      FieldMapper.fromConfig([
        { kind: 'field', native: 'n', canonical: 'n', transforms: [{ type: 'trim' }, { type: 'toNumber' }, { type: 'toString' }] },
      ]).ok,
    ).toBe(true);
  });

  describe('one-way kinds', () => {
    it.each([
      ['formula', { kind: 'formula', native: 'display_name', template: '{{first_name}} {{last_name}}' }],
      ['condition', { kind: 'condition', native: 'lead_status', when: { field: 'lead_score', op: 'gte', value: 50 }, then: 'hot', else: 'cold' }],
      ['constant', { kind: 'constant', native: 'source', value: 'tandem' }],
    ])('rejects a %s rule that is not declared outbound', (kind, rule) => {
      const expected = `rule 1 (native '${rule.native}'): a ${kind} rule only writes to the system; declare direction 'outbound'`;
      expect(errorsFor([rule])).toEqual([expected]);
      expect(errorsFor([{ ...rule, direction: 'inbound' }])).toEqual([expected]);
      expect(FieldMapper.fromConfig([{ ...rule, direction: 'outbound' }]).ok).toBe(true);
    });
  });

  it('rejects formula templates without valid placeholders', () => {
    const formula = (template: string) => [{ kind: 'formula', direction: 'outbound', native: 'n', template }];
    expect(errorsFor(formula('{{first name}}'))).toEqual([
      "rule 1 (native 'n'): template has a placeholder that is not {{field_name}}",
    ]);
    expect(errorsFor(formula('{{a}} }}'))).toEqual(["rule 1 (native 'n'): template has a placeholder that is not {{field_name}}"]);
    expect(errorsFor(formula('Hello'))).toEqual([
      "rule 1 (native 'n'): template has no {{field}} placeholder; use a constant rule",
    ]);
  });

  describe('one writer per field', () => {
    it('rejects two outbound rules writing one native field', () => {
      expect(
        errorsFor([
          { kind: 'split', native: 'name', canonical: ['first_name', 'last_name'] },
          email,
          { kind: 'formula', direction: 'outbound', native: 'name', template: '{{last_name}}, {{first_name}}' },
        ]),
      ).toEqual([
        "rule 3 (native 'name'): native field 'name' is already written outbound by rule 1; each native field may have only one outbound rule",
      ]);
    });

    it('rejects two inbound rules writing one canonical field', () => {
      expect(
        errorsFor([
          { kind: 'join', native: ['firstname', 'lastname'], canonical: 'full_name' },
          { kind: 'field', direction: 'inbound', native: 'name', canonical: 'full_name' },
        ]),
      ).toEqual([
        "rule 2 (native 'name'): canonical field 'full_name' is already written inbound by rule 1; each canonical field may have only one inbound rule",
      ]);
    });

    it('allows one field per direction, e.g. an inbound-only read and an outbound-only write', () => {
      expect(
        FieldMapper.fromConfig([
          { kind: 'field', direction: 'inbound', native: 'email', canonical: 'email' },
          { kind: 'field', direction: 'outbound', native: 'email', canonical: 'work_email' },
          { kind: 'field', direction: 'inbound', native: 'alt_email', canonical: 'work_email' },
        ]).ok,
      ).toBe(true);
    });
  });

  describe('shape', () => {
    it('names the rule and the field of each problem, all at once', () => {
      expect(
        errorsFor([
          { kind: 'rename', native: 'a', canonical: 'b' },
          { kind: 'split', native: 'full_name', canonical: ['first_name'], seperator: ',' },
          { kind: 'field', native: 'e-mail', canonical: 'email', transforms: [{ type: 'reverse' }] },
          { kind: 'join', native: ['a', 'a'], canonical: 'b', separator: '' },
          { kind: 'condition', direction: 'outbound', native: 'x', when: { field: 'y', op: 'gt' }, then: 'a', else: [] },
        ]),
      ).toEqual([
        "rule 1 kind: Invalid discriminator value. Expected 'field' | 'split' | 'join' | 'formula' | 'condition' | 'constant'",
        'rule 2 canonical: must list at least two fields',
        'rule 2: Unrecognized key: "seperator"',
        'rule 3 native: must be an identifier',
        "rule 3 transforms.0.type: Invalid discriminator value. Expected 'trim' | 'lowercase' | 'uppercase' | 'toNumber' | 'toString' | 'enum'",
        'rule 4 native: must not list a field twice',
        'rule 4 separator: must not be empty',
        'rule 5 when.value: must be a number or a string',
        'rule 5 else: must be a string, number, boolean or null',
      ]);
    });

    it('rejects an empty enum and a configuration that is not a list', () => {
      expect(
        errorsFor([{ kind: 'field', native: 's', canonical: 's', transforms: [{ type: 'enum', values: {} }] }]),
      ).toEqual(['rule 1 transforms.0.values: must map at least one value']);
      expect(errorsFor({ rules: [] })).toEqual(['mapping: Invalid input: expected array, received object']);
    });
  });
});
