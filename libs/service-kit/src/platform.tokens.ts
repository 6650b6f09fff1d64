/** Injection tokens inside the platform module; services inject `ServicePlatform`. */
export const LOGGER = Symbol('LOGGER');
export const TANDEM_POOL = Symbol('TANDEM_POOL');
export const TANDEM_DB = Symbol('TANDEM_DB');
export const BROKER = Symbol('BROKER');
export const PUBLISHER = Symbol('PUBLISHER');
