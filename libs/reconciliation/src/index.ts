export * from './entity-state.model';
export { CompiledSync, type CompiledSystem, type SystemMapper } from './compiled-sync';
export { decideField, type Contender, type FieldDecision } from './conflict-rules';
export { reconcile, type ReconcileOptions, type ReconcilerInput, type Reconciliation } from './reconcile';
