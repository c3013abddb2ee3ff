import type { EntityManager } from '@mikro-orm/postgresql';
import { Seeder } from '@mikro-orm/seeder';
import { Agent } from '../server/modules/agents/agent.entity.js';
import { DEFAULT_MODEL_CONFIG } from '../server/modules/agents/agent.schema.js';
import { hashPassword } from '../server/modules/auth/passwords.js';
import { Message, type MessageRole } from '../server/modules/messages/message.entity.js';
import { User } from '../server/modules/users/user.entity.js';

/** The development logins (development data only: `npm run db:seed` refuses to run in production). */
export const SEED_USERS = [
  {
    username: 'admin',
    email: 'admin@mirix.dev',
    fullName: '系统管理员',
    isSuperuser: true,
    password: 'mirix-admin',
  },
  {
    username: 'developer',
    email: 'dev@mirix.dev',
    fullName: '开发者',
    isSuperuser: false,
    password: 'mirix-developer',
  },
  {
    username: 'tester',
    email: 'test@mirix.dev',
    fullName: '测试用户',
    isSuperuser: false,
    password: 'mirix-tester',
  },
] as const;

type SeedUsername = (typeof SEED_USERS)[number]['username'];

export const SEED_AGENTS: { name: string; agentType: string; description: string; owner: SeedUsername }[] = [
  {
    name: '助手智能体',
    agentType: 'assistant',
    description: '通用助手智能体，用于日常对话和任务处理',
    owner: 'admin',
  },
  {
    name: '代码智能体',
    agentType: 'code_assistant',
    description: '专门用于代码生成和编程辅助的智能体',
    owner: 'developer',
  },
  { name: '分析智能体', agentType: 'analyst', description: '数据分析和报告生成智能体', owner: 'developer' },
];

export const SEED_MESSAGES: { agent: string; role: MessageRole; content: string }[] = [
  { agent: '助手智能体', role: 'user', content: '你好，请介绍一下MIRIX系统' },
  { agent: '助手智能体', role: 'assistant', content: 'MIRIX是一个多智能体系统，支持多种AI模型和工具集成...' },
  { agent: '代码智能体', role: 'user', content: '请帮我生成一个Python函数来计算斐波那契数列' },
  {
    agent: '代码智能体',
    role: 'assistant',
    content:
      '```python\ndef fibonacci(n):\n    if n <= 1:\n        return n\n    return fibonacci(n-1) + fibonacci(n-2)\n```',
  },
];

export interface SeedReport {
  created: { users: number; agents: number; messages: number };
}

/**
 * The design document's development data. Idempotent: rows are matched by natural key (username;
 * owner + agent name, deleted or not; agent + role + content) and only missing ones are created.
 * Existing rows are never modified, so a second run changes nothing.
 */
export class DatabaseSeeder extends Seeder {
  report: SeedReport = { created: { users: 0, agents: 0, messages: 0 } };

  async run(em: EntityManager): Promise<void> {
    const users = new Map<string, User>();
    for (const seed of SEED_USERS) {
      let user = await em.findOne(User, { username: seed.username });
      if (!user) {
        user = em.create(User, {
          username: seed.username,
          email: seed.email,
          fullName: seed.fullName,
          isSuperuser: seed.isSuperuser,
          passwordHash: await hashPassword(seed.password),
        });
        this.report.created.users++;
      }
      users.set(seed.username, user);
    }

    const agents = new Map<string, Agent>();
    for (const seed of SEED_AGENTS) {
      const owner = users.get(seed.owner)!;
      let agent = await em.findOne(Agent, { owner, name: seed.name });
      if (!agent) {
        agent = em.create(Agent, {
          owner,
          name: seed.name,
          agentType: seed.agentType,
          description: seed.description,
          modelConfig: { ...DEFAULT_MODEL_CONFIG, parameters: {} },
        });
        this.report.created.agents++;
      }
      agents.set(seed.name, agent);
    }

    const base = Date.now();
    for (const [i, seed] of SEED_MESSAGES.entries()) {
      const agent = agents.get(seed.agent)!;
      const sender = seed.role === 'user' ? agent.owner.id : null;
      if (await em.findOne(Message, { agent, role: seed.role, content: seed.content })) continue;
      em.create(Message, {
        agent,
        role: seed.role,
        content: seed.content,
        senderId: sender,
        createdAt: new Date(base + i),
        updatedAt: new Date(base + i),
      });
      this.report.created.messages++;
    }
    await em.flush();
  }
}
