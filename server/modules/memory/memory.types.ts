/** The five searchable memory types (core memory is a separate, always-in-context store). */
export const MEMORY_TYPES = ['episodic', 'semantic', 'procedural', 'resource', 'knowledge_vault'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

export const SENSITIVITY_LEVELS = ['low', 'medium', 'high'] as const;
export type Sensitivity = (typeof SENSITIVITY_LEVELS)[number];

export type ModifiedBy = 'user' | 'agent' | 'system';
export type MemoryOperation = 'created' | 'updated' | 'deleted' | 'appended' | 'replaced' | 'embedded';

/** Who last changed a memory, how, and (for background managers) in which job. */
export interface LastModified {
  at: string;
  operation: MemoryOperation;
  by: ModifiedBy;
  jobId?: string;
}
