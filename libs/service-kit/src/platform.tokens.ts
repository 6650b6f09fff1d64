/** Injection tokens inside the platform module; services inject `ServicePlatform`. */
export const LOGGER = Symbol('LOGGER');
export const INFRASTRUCTURE = Symbol('INFRASTRUCTURE');
export const PUBLISHER = Symbol('PUBLISHER');
