import { z } from 'zod';
import { strictBoolean } from '../../rest/strict-boolean.js';

export const ZModelConfig = z.object({
  provider: z.enum(['openai', 'anthropic']),
  model: z.string().trim().min(1).max(200),
  parameters: z.record(z.string(), z.unknown()).default({}),
});

export const DEFAULT_MODEL_CONFIG = { provider: 'openai', model: 'gpt-4o-mini', parameters: {} } as const;

const ZAgentType = z
  .string()
  .trim()
  .regex(
    /^[a-z][a-z0-9_]{0,63}$/,
    'lower-case letters, digits and "_", starting with a letter (e.g. "assistant")',
  );

export const ZCreateAgentRequest = z.object({
  name: z.string().trim().min(1, 'required').max(200),
  agentType: ZAgentType.default('assistant'),
  description: z.string().max(10_000).nullish(),
  systemPrompt: z.string().max(100_000).nullish(),
  modelConfig: ZModelConfig.optional(),
});
export type TCreateAgentRequest = z.infer<typeof ZCreateAgentRequest>;

export const ZUpdateAgentRequest = z.object({
  id: z.uuid(),
  name: z.string().trim().min(1, 'required').max(200).optional(),
  agentType: ZAgentType.optional(),
  description: z.string().max(10_000).nullable().optional(),
  systemPrompt: z.string().max(100_000).nullable().optional(),
  modelConfig: ZModelConfig.optional(),
  isActive: strictBoolean().optional(),
});
export type TUpdateAgentRequest = z.infer<typeof ZUpdateAgentRequest>;

export const ZAgentIdRequest = z.object({ id: z.uuid() });

export const ZListAgentsRequest = z.object({
  skip: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(100).default(20),
  agentType: ZAgentType.optional(),
});
export type TListAgentsRequest = z.infer<typeof ZListAgentsRequest>;

export const ZAdminListAgentsRequest = ZListAgentsRequest.extend({ ownerId: z.uuid().optional() });
export type TAdminListAgentsRequest = z.infer<typeof ZAdminListAgentsRequest>;

export const ZAgentResponse = z.object({
  id: z.uuid(),
  ownerId: z.uuid(),
  name: z.string(),
  agentType: z.string(),
  description: z.string().nullable(),
  systemPrompt: z.string().nullable(),
  modelConfig: z.object({
    provider: z.enum(['openai', 'anthropic']),
    model: z.string(),
    parameters: z.record(z.string(), z.unknown()),
  }),
  isActive: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type TAgentResponse = z.infer<typeof ZAgentResponse>;

export const ZAgentListResponse = z.object({
  items: z.array(ZAgentResponse),
  total: z.number().int(),
  skip: z.number().int(),
  limit: z.number().int(),
});
