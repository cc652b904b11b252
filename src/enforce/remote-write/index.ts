// Prometheus remote-write tenant enforcement: set the tenant's labels on every series of a
// remote-write 1.0 WriteRequest or 2.0 Request, refusing anything that could carry data past them.
export { enforceRemoteWrite } from './enforce.ts';
export type { EnforcedRemoteWrite, RemoteWriteLimits, RemoteWriteOptions } from './enforce.ts';
export { RemoteWriteError } from './errors.ts';
export type { RemoteWriteErrorCode, RemoteWriteErrorStatus } from './errors.ts';
export type { RemoteWriteEncoding } from './codec.ts';
export { detectRemoteWriteVersion } from './version.ts';
export type { RemoteWriteVersion } from './version.ts';
export { prepareTenantLabels, writeLabelsForTenant } from './tenant-labels.ts';
export type { PreparedTenantLabels, TenantLabelPairs } from './tenant-labels.ts';
export type { LabelNameRule } from './label-names.ts';
