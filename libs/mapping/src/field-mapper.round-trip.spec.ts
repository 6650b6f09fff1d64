import fc from 'fast-check';
import type { FieldValue, FieldValues } from '@tandem/contracts';
import { FieldMapper, type FieldMappingInput } from './index';

/** Every two-way rule kind, with chained transforms and several separators. */
const twoWayMapping: FieldMappingInput = [
  { kind: 'field', native: 'email', canonical: 'email', transforms: [{ type: 'trim' }, { type: 'lowercase' }] },
  { kind: 'field', native: 'code', canonical: 'code', transforms: [{ type: 'trim' }, { type: 'uppercase' }] },
  { kind: 'field', native: 'notes', canonical: 'notes' },
  { kind: 'field', native: 'score', canonical: 'lead_score', transforms: [{ type: 'toNumber' }] },
  { kind: 'field', native: 'zip', canonical: 'postal_code', transforms: [{ type: 'toString' }] },
  {
    kind: 'field',
    native: 'status',
    canonical: 'status',
    transforms: [{ type: 'trim' }, { type: 'lowercase' }, { type: 'enum', values: { new: 1, open: 2, won: true, lost: 'lost' } }],
  },
  { kind: 'split', native: 'full_name', canonical: ['first_name', 'last_name'] },
  { kind: 'split', native: 'tags', canonical: ['tag1', 'tag2', 'other_tags'], separator: ';' },
  { kind: 'join', native: ['street', 'house_number'], canonical: 'address', separator: ', ' },
];

const built = FieldMapper.fromConfig(twoWayMapping);
if (!built.ok) throw new Error(built.errors.join('\n'));
const mapper = built.mapper;

/** Strings rich in separators and whitespace, so splits and joins meet their edge cases. */
const texty = fc.oneof(
  fc.string({ unit: fc.constantFrom(' ', '  ', '\t', ',', ', ', ';', 'a', 'Zé', 'ß', 'İ', '-') }),
  fc.string({ unit: 'binary' }),
);
const orNull = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const scalar: fc.Arbitrary<FieldValue> = fc.oneof(texty, finite, fc.boolean(), fc.constant(null));

/** Native records in the domain of the inbound rules; any subset of the fields may be present. */
const nativeRecord: fc.Arbitrary<FieldValues> = fc.record(
  {
    email: orNull(texty),
    code: orNull(texty),
    notes: scalar,
    score: orNull(fc.oneof(finite, finite.map(String), fc.nat().map((n) => ` 00${n} `), fc.constant(''))),
    zip: orNull(finite),
    status: orNull(fc.constantFrom('new', ' Open ', 'WON', 'lost')),
    full_name: orNull(texty),
    tags: orNull(texty),
    street: orNull(texty),
    house_number: orNull(texty),
    unmapped: scalar,
  },
  { requiredKeys: [] },
);

const roundTrip = (canonical: FieldValues): FieldValues => {
  const native = mapper.toNative(canonical);
  expect(native.errors).toEqual([]);
  const back = mapper.toCanonical(native.values);
  expect(back.errors).toEqual([]);
  return back.values;
};

describe('FieldMapper round trips', () => {
  it('reaches a fixed point after one trip out and back for any native record', () => {
    fc.assert(
      fc.property(nativeRecord, (record) => {
        const canonical = mapper.toCanonical(record);
        expect(canonical.errors).toEqual([]);
        expect(roundTrip(canonical.values)).toEqual(canonical.values);
      }),
      { numRuns: 300 },
    );
  });

  it('returns normalized canonical values unchanged through rename, enum and number rules', () => {
    const normalizedRecord = fc.record(
      {
        email: orNull(texty.map((text) => text.trim().toLowerCase())),
        code: orNull(texty.map((text) => text.trim().toUpperCase())),
        notes: scalar,
        // -0 is not a normalized number: it reads back as 0.
        lead_score: orNull(finite.map((n) => (n === 0 ? 0 : n))),
        postal_code: orNull(finite.map(String)),
        status: fc.constantFrom<FieldValue>(1, 2, true, 'lost', null),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(normalizedRecord, (canonical) => {
        expect(roundTrip(canonical)).toEqual(canonical);
      }),
      { numRuns: 300 },
    );
  });

  it('reaches a fixed point after one round for split and join fields', () => {
    const nameRecord = fc.record({
      first_name: orNull(texty),
      last_name: orNull(texty),
      tag1: orNull(texty),
      tag2: orNull(texty),
      other_tags: orNull(texty),
      address: orNull(texty),
    });
    fc.assert(
      fc.property(nameRecord, (canonical) => {
        const once = roundTrip(canonical);
        expect(Object.keys(once).sort()).toEqual(Object.keys(canonical).sort());
        expect(roundTrip(once)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('maps a partial record to exactly what the full record gives for those fields', () => {
    fc.assert(
      fc.property(nativeRecord, fc.func(fc.boolean()), (record, keep) => {
        const partial = Object.fromEntries(Object.entries(record).filter(([name]) => keep(name)));
        const full = mapper.toCanonical(record).values;
        const fromPartial = mapper.toCanonical(partial).values;
        const expected = Object.keys(fromPartial).map((name) => [name, full[name]]);
        expect(fromPartial).toEqual(Object.fromEntries(expected));
        // Every canonical field that depends only on kept native fields is produced.
        for (const name of Object.keys(full)) {
          const inputs = mapper.nativeFields.filter((native) => mapper.canonicalFieldsAffectedBy([native]).includes(name));
          if (inputs.every((native) => Object.hasOwn(partial, native))) expect(fromPartial).toHaveProperty([name]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('changes only the canonical fields a native field is said to affect', () => {
    fc.assert(
      fc.property(nativeRecord, nativeRecord, fc.constantFrom(...mapper.nativeFields), (record, other, field) => {
        if (!Object.hasOwn(other, field)) return;
        const changed = { ...record, [field]: other[field] ?? null };
        const before = mapper.toCanonical(record).values;
        const after = mapper.toCanonical(changed).values;
        const differing = mapper.canonicalFields.filter((name) => !Object.is(before[name], after[name]));
        const affected = mapper.canonicalFieldsAffectedBy([field]);
        expect(differing.filter((name) => !affected.includes(name))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
