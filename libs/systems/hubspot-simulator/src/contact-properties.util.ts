/** Writable properties every HubSpot account has on contacts (a subset; options can add more). */
const STANDARD_CONTACT_PROPERTIES: readonly string[] = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'mobilephone',
  'fax',
  'company',
  'jobtitle',
  'industry',
  'lifecyclestage',
  'hs_lead_status',
  'website',
  'address',
  'city',
  'state',
  'zip',
  'country',
  'notes',
  'message',
  'salutation',
  'date_of_birth',
  'annualrevenue',
  'hubspot_owner_id',
];

/** Maintained by HubSpot: always returned, never writable. */
export const SYSTEM_CONTACT_PROPERTIES = ['hs_object_id', 'createdate', 'lastmodifieddate'] as const;

/** What a read returns when it names no properties. */
export const DEFAULT_READ_PROPERTIES: readonly string[] = ['email', 'firstname', 'lastname'];

const LIFECYCLE_STAGES = new Set([
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
]);

export type ContactProperties = Record<string, string | null>;

/** One entry of an error body's `errors` list. */
export interface PropertyError {
  message: string;
  in: string;
  code: 'PROPERTY_DOESNT_EXIST' | 'READ_ONLY_VALUE' | 'INVALID_EMAIL' | 'INVALID_OPTION' | 'INVALID_VALUE';
  context: { propertyName: string[] };
}

export type PropertyValidation = { ok: true; properties: ContactProperties } | { ok: false; errors: PropertyError[] };

/** Valid-ish, as HubSpot checks: one '@', something before it, and a dot inside the domain. */
function isValidEmail(email: string): boolean {
  return /^[^\s@]+@[^\s@.][^\s@]*\.[^\s@.]+$/.test(email) && !email.includes('..');
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class ContactPropertyCatalog {
  private readonly writable: ReadonlySet<string>;
  private readonly readable: ReadonlySet<string>;

  constructor(extraProperties: readonly string[]) {
    this.writable = new Set([...STANDARD_CONTACT_PROPERTIES, ...extraProperties]);
    this.readable = new Set([...this.writable, ...SYSTEM_CONTACT_PROPERTIES]);
  }

  isWritable(name: string): boolean {
    return this.writable.has(name);
  }

  isReadable(name: string): boolean {
    return this.readable.has(name);
  }

  /**
   * Checks a write's `properties`. Numbers and booleans become strings, as HubSpot stores every value as
   * a string; null clears a value.
   */
  validateWrite(input: unknown): PropertyValidation {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return {
        ok: false,
        errors: [invalid('properties', 'INVALID_VALUE', 'properties must be an object of property names to values')],
      };
    }
    const errors: PropertyError[] = [];
    const properties: ContactProperties = {};
    for (const [name, raw] of Object.entries(input)) {
      if ((SYSTEM_CONTACT_PROPERTIES as readonly string[]).includes(name)) {
        errors.push(invalid(name, 'READ_ONLY_VALUE', `Property "${name}" is read-only`));
        continue;
      }
      if (!this.writable.has(name)) {
        errors.push(invalid(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`));
        continue;
      }
      if (raw !== null && typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
        errors.push(invalid(name, 'INVALID_VALUE', `Property "${name}" must be a string or null`));
        continue;
      }
      const value = raw === null ? null : String(raw);
      const problem = value === null || value === '' ? null : checkValue(name, value);
      if (problem) errors.push(problem);
      else properties[name] = value;
    }
    return errors.length > 0 ? { ok: false, errors } : { ok: true, properties };
  }
}

function checkValue(name: string, value: string): PropertyError | null {
  if (name === 'email' && !isValidEmail(value)) {
    return invalid(name, 'INVALID_EMAIL', `Email address ${value} is invalid`);
  }
  if (name === 'lifecyclestage' && !LIFECYCLE_STAGES.has(value)) {
    return invalid(name, 'INVALID_OPTION', `${value} was not one of the allowed options for lifecyclestage`);
  }
  return null;
}

function invalid(name: string, code: PropertyError['code'], message: string): PropertyError {
  return { message, in: name, code, context: { propertyName: [name] } };
}

/** HubSpot's own summary line for a set of property errors. */
export function describePropertyErrors(errors: readonly PropertyError[]): string {
  const details = errors.map((error) => ({ isValid: false, message: error.message, error: error.code, name: error.in }));
  return `Property values were not valid: ${JSON.stringify(details)}`;
}
