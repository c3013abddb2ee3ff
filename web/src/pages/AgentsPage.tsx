import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'wouter';
import { ErrorNote, Field, QueryView } from '../components/States.js';
import { type RouterOutputs, useTRPC } from '../trpc.js';

type Agent = RouterOutputs['agents']['get'];

interface AgentForm {
  name: string;
  agentType: string;
  description: string;
  systemPrompt: string;
  provider: 'openai' | 'anthropic';
  model: string;
  parameters: string;
}

const blank: AgentForm = {
  name: '',
  agentType: 'assistant',
  description: '',
  systemPrompt: '',
  provider: 'openai',
  model: 'gpt-4o-mini',
  parameters: '{}',
};

const formOf = (a: Agent): AgentForm => ({
  name: a.name,
  agentType: a.agentType,
  description: a.description ?? '',
  systemPrompt: a.systemPrompt ?? '',
  provider: a.modelConfig.provider,
  model: a.modelConfig.model,
  parameters: JSON.stringify(a.modelConfig.parameters),
});

/** The form's values as the API takes them; a parameters field that is not a JSON object is refused here. */
function toInput(f: AgentForm) {
  let parameters: unknown;
  try {
    parameters = JSON.parse(f.parameters || '{}');
  } catch {
    throw new Error('Model parameters must be a JSON object, e.g. {"temperature": 0.3}');
  }
  if (!parameters || typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new Error('Model parameters must be a JSON object, e.g. {"temperature": 0.3}');
  }
  return {
    name: f.name,
    agentType: f.agentType,
    description: f.description || null,
    systemPrompt: f.systemPrompt || null,
    modelConfig: { provider: f.provider, model: f.model, parameters: parameters as Record<string, unknown> },
  };
}

function AgentFields({ form, onChange }: { form: AgentForm; onChange: (f: AgentForm) => void }) {
  const set = (k: keyof AgentForm) => (e: { target: { value: string } }) =>
    onChange({ ...form, [k]: e.target.value });
  return (
    <div className="grid">
      <Field label="Name">
        <input value={form.name} onChange={set('name')} required maxLength={200} />
      </Field>
      <Field label="Agent type">
        <input value={form.agentType} onChange={set('agentType')} required />
      </Field>
      <Field label="Description">
        <input value={form.description} onChange={set('description')} />
      </Field>
      <Field label="Provider">
        <select value={form.provider} onChange={set('provider')}>
          <option value="openai">OpenAI (or compatible)</option>
          <option value="anthropic">Anthropic</option>
        </select>
      </Field>
      <Field label="Model">
        <input value={form.model} onChange={set('model')} required />
      </Field>
      <Field label="Model parameters (JSON)">
        <input value={form.parameters} onChange={set('parameters')} spellCheck={false} />
      </Field>
      <Field label="System prompt">
        <textarea value={form.systemPrompt} onChange={set('systemPrompt')} rows={3} />
      </Field>
    </div>
  );
}

function AgentRow({ agent }: { agent: Agent }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<AgentForm | null>(null);
  const [confirming, setConfirming] = useState(false);
  const refresh = () => queryClient.invalidateQueries(trpc.agents.pathFilter());
  const update = useMutation(
    trpc.agents.update.mutationOptions({ onSuccess: () => (setEditing(null), refresh()) }),
  );
  const remove = useMutation(trpc.agents.delete.mutationOptions({ onSuccess: refresh }));
  const [formError, setFormError] = useState<unknown>(null);

  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    try {
      setFormError(null);
      update.mutate({ id: agent.id, ...toInput(editing) });
    } catch (err) {
      setFormError(err);
    }
  };

  return (
    <li className="card agent" aria-label={`Agent ${agent.name}`}>
      <div className="row">
        <div>
          <h3>{agent.name}</h3>
          <p className="muted">
            {agent.agentType} · {agent.modelConfig.provider} / {agent.modelConfig.model}
          </p>
          {agent.description && <p>{agent.description}</p>}
        </div>
        <nav className="actions" aria-label={`${agent.name} pages`}>
          <Link href={`/agents/${agent.id}/chat`}>Chat</Link>
          <Link href={`/agents/${agent.id}/memory`}>Memory</Link>
          <Link href={`/agents/${agent.id}/activity`}>Activity</Link>
          <button
            type="button"
            className="secondary"
            onClick={() => setEditing(editing ? null : formOf(agent))}
          >
            Edit
          </button>
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete
          </button>
        </nav>
      </div>
      {confirming && (
        <div className="confirm" role="alertdialog" aria-label={`Delete ${agent.name}?`}>
          <p>
            Delete <strong>{agent.name}</strong> and hide its memories and messages?
          </p>
          <button
            type="button"
            className="danger"
            onClick={() => remove.mutate({ id: agent.id })}
            disabled={remove.isPending}
          >
            Yes, delete
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)} autoFocus>
            Cancel
          </button>
          <ErrorNote error={remove.error} />
        </div>
      )}
      {editing && (
        <form onSubmit={save} aria-label={`Edit ${agent.name}`}>
          <AgentFields form={editing} onChange={setEditing} />
          <ErrorNote error={formError ?? update.error} />
          <button type="submit" disabled={update.isPending}>
            Save
          </button>
        </form>
      )}
    </li>
  );
}

export function AgentsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agents = useQuery(trpc.agents.list.queryOptions({ limit: 100 }));
  const [form, setForm] = useState<AgentForm>(blank);
  const [formError, setFormError] = useState<unknown>(null);
  const create = useMutation(
    trpc.agents.create.mutationOptions({
      onSuccess: () => {
        setForm(blank);
        return queryClient.invalidateQueries(trpc.agents.pathFilter());
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    try {
      setFormError(null);
      create.mutate(toInput(form));
    } catch (err) {
      setFormError(err);
    }
  };

  return (
    <>
      <h1>Agents</h1>
      <section className="card">
        <h2>New agent</h2>
        <form onSubmit={submit} aria-label="New agent">
          <AgentFields form={form} onChange={setForm} />
          <ErrorNote error={formError ?? create.error} />
          <button type="submit" disabled={create.isPending}>
            Create agent
          </button>
        </form>
      </section>
      <section aria-label="Your agents">
        <QueryView
          query={agents}
          what="agents"
          isEmpty={(data) => data.items.length === 0}
          empty={<>No agents yet: create one above.</>}
        >
          {(data) => (
            <ul className="list">
              {data.items.map((a) => (
                <AgentRow key={a.id} agent={a} />
              ))}
            </ul>
          )}
        </QueryView>
      </section>
    </>
  );
}
