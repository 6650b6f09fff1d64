/** Injection tokens for what the platform module provides. */
export const PLATFORM_ENV = Symbol('PLATFORM_ENV');
export const LOGGER = Symbol('LOGGER');
export const TANDEM_POOL = Symbol('TANDEM_POOL');
export const TANDEM_DB = Symbol('TANDEM_DB');
export const BROKER = Symbol('BROKER');
export const PUBLISHER = Symbol('PUBLISHER');
export const TOPICS = Symbol('TOPICS');
