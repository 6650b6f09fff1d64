export {
  FieldMappingSchema,
  type FieldMapping,
  type FieldMappingInput,
  type FieldMappingRule,
  type Transform,
} from './field-mapping.schema';
export { FieldMapper, type FieldMapperResult } from './field-mapper.service';
export { FieldErrorCode, type FieldError, type MappedValues } from './mapping.error';
