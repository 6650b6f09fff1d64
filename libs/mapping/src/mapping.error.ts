import type { FieldValues } from '@tandem/contracts';

/** Why one output field could not be mapped from the values it was given. */
export enum FieldErrorCode {
  /** The value has a type the rule cannot take, e.g. a number where a name is split. */
  WrongType = 'WRONG_TYPE',
  /** A string that must become a number does not read as a finite decimal number. */
  NotANumber = 'NOT_A_NUMBER',
  /** An enum has no entry (and no default) for the value. */
  UnmappedValue = 'UNMAPPED_VALUE',
}

/** A field the mapper left out of its result, and why; the caller records it against the record. */
export interface FieldError {
  /** The output field that was not written (canonical for `toCanonical`, native for `toNative`). */
  field: string;
  code: FieldErrorCode;
  reason: string;
}

/** What a mapping produced: every field it could write, and an error for each one it could not. */
export interface MappedValues {
  values: FieldValues;
  errors: FieldError[];
}
