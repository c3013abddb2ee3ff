import type { EntityManager } from '@mikro-orm/postgresql';
import { v7 as uuidv7 } from 'uuid';
import { runNative } from '../../db/native.js';
import { chatTurnJob, type RecordedJob } from '../consolidation/index.js';
import type { MessageMetadata, MessageRole, TokenUsage } from '../messages/index.js';
import type { Agent } from '../agents/index.js';

/*
 * A chat turn's reads and writes, as prepared statements. They run on every turn, and the unit of
 * work's query building and change tracking buy nothing here: each row is written once and never
 * read back in the same request. The columns are Message's (migrations/); the consolidation job a
 * turn records is the consolidation module's (chatTurnJob).
 */

/** A message's key and time, chosen before it is written (UUIDv7, like BaseEntity's). */
export interface MessageKey {
  id: string;
  createdAt: Date;
}

export function messageKey(): MessageKey {
  return { id: uuidv7(), createdAt: new Date() };
}

const INSERT_MESSAGE = `insert into messages
  (id, created_at, updated_at, agent_id, role, content, sender_id, token_usage, metadata)
  values ($1, $2, $2, $3, $4, $5, $6, $7, $8)`;

/**
 * The agent, if it is the sender's and live, and the user's message, saved in the same statement:
 * the message is written only when the agent row is found, and the turn waits for one round trip
 * instead of a lookup followed by an insert.
 */
const INSERT_USER_MESSAGE_TO_OWNED_AGENT = `with agent as (
    select * from agents where id = $3 and owner_id = $5 and deleted_at is null
  ), saved as (
    insert into messages (id, created_at, updated_at, agent_id, role, content, sender_id, metadata)
    select $1::uuid, $2::timestamptz, $2::timestamptz, agent.id, 'user', $4::text, $5::uuid,
      '{"status":"pending"}'::jsonb from agent
  )
  select * from agent`;

/**
 * The user's message, saved before anything else happens in the turn, if the sender owns the live
 * agent `agentId`, marked `pending` until the turn ends (an answer clears the mark, a failure
 * replaces it; a turn that could record neither is marked failed by `failAbandonedTurns`). Returns
 * that agent's row, or null (and saves nothing) when there is no such agent.
 */
export async function saveUserMessage(
  em: EntityManager,
  message: MessageKey,
  { agentId, senderId, content }: { agentId: string; senderId: string; content: string },
): Promise<Record<string, unknown> | null> {
  const [agent] = await runNative<Record<string, unknown>>(em, INSERT_USER_MESSAGE_TO_OWNED_AGENT, [
    message.id,
    message.createdAt,
    agentId,
    content,
    senderId,
  ]);
  return agent ?? null;
}

/** The answer ($1 to $8), and the user's message ($9) is no longer pending. */
const INSERT_ANSWER = `with answered as (
    update messages set metadata = null, updated_at = $2 where id = $9 and agent_id = $3
  )
  ${INSERT_MESSAGE}`;

/** The answer, and the statement that records its consolidation job (chatTurnJob). */
const insertAnswerWith = (jobInsert: string) => `with answered as (
    update messages set metadata = null, updated_at = $2 where id = $9 and agent_id = $3
  ), answer as (${INSERT_MESSAGE})
  ${jobInsert}`;

export interface Answer {
  agentId: string;
  /** The user's message this answers. */
  replyTo: string;
  content: string;
  usage: TokenUsage | null;
  metadata: MessageMetadata;
}

/**
 * The assistant's message and, when `consolidate` is given (the agent's owner), the turn's
 * consolidation job: one statement, hence one commit, so an answer is never saved without its job
 * and the user's message is never left pending beside its answer.
 */
export async function saveAnswer(
  em: EntityManager,
  answer: Answer,
  consolidate: { ownerId: string } | null,
): Promise<{ message: MessageKey; job: RecordedJob | null }> {
  const message = messageKey();
  // INSERT_MESSAGE's $1 to $8.
  const row = [
    message.id,
    message.createdAt,
    answer.agentId,
    'assistant',
    answer.content,
    null,
    answer.usage,
    answer.metadata,
    answer.replyTo,
  ];
  if (!consolidate) {
    await runNative(em, INSERT_ANSWER, row);
    return { message, job: null };
  }
  const turnJob = chatTurnJob({
    agentId: answer.agentId,
    ownerId: consolidate.ownerId,
    messageIds: [answer.replyTo, message.id],
    createdAt: message.createdAt,
    firstParam: row.length + 1,
  });
  await runNative(em, insertAnswerWith(turnJob.sql), [...row, ...turnJob.params]);
  return { message, job: turnJob.job };
}

/**
 * User messages still `pending` after `olderThanMs`: their turn ended without recording how (the
 * database went away mid-turn, or the API process died). Marks them failed, `batch` at a time, and
 * returns how many.
 */
export async function failAbandonedTurns(
  em: EntityManager,
  opts: { olderThanMs: number; batch?: number },
): Promise<number> {
  const metadata: MessageMetadata = {
    status: 'failed',
    error: {
      code: 'TURN_ABANDONED',
      message:
        'The turn ended without an answer (the server lost its database or stopped); send the message again.',
    },
  };
  const rows = await runNative<{ id: string }>(
    em,
    `update messages set metadata = $3, updated_at = now()
     where id in (
       select id from messages
       where metadata->>'status' = 'pending' and created_at < now() - ($1 * interval '1 millisecond')
       order by created_at limit $2 for update skip locked
     ) and metadata->>'status' = 'pending'
     returning id`,
    [opts.olderThanMs, opts.batch ?? 500, metadata],
  );
  return rows.length;
}

/** Marks the user's message failed, with the error the caller was given. */
export async function markFailed(
  em: EntityManager,
  messageId: string,
  metadata: MessageMetadata,
): Promise<void> {
  await runNative(em, 'update messages set metadata = $2, updated_at = now() where id = $1', [
    messageId,
    metadata,
  ]);
}

/**
 * The last `limit` messages of the agent's conversation, leaving out the message `exclude` (the
 * turn's own), oldest first. Still scoped to the agent's owner in the statement itself.
 */
export async function historyWindow(
  em: EntityManager,
  agent: Agent,
  { exclude, limit }: { exclude: string; limit: number },
): Promise<{ role: MessageRole; content: string }[]> {
  if (limit === 0) return [];
  const rows = await runNative<{ role: MessageRole; content: string }>(
    em,
    `select role, content from messages
     where agent_id = $1 and id <> $2
       and exists (select 1 from agents a where a.id = $1 and a.owner_id = $4 and a.deleted_at is null)
     order by created_at desc, id desc limit $3`,
    [agent.id, exclude, limit, agent.owner.id],
  );
  return rows.reverse();
}
