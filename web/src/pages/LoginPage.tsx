import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ErrorNote, Field } from '../components/States.js';
import { useSession } from '../session.js';
import { useTRPC } from '../trpc.js';

export function LoginPage() {
  const trpc = useTRPC();
  const { signIn } = useSession();
  const [mode, setMode] = useState<'signin' | 'register'>('signin');
  const [form, setForm] = useState({ username: '', email: '', password: '' });
  const login = useMutation(trpc.auth.login.mutationOptions({ onSuccess: (t) => signIn(t.accessToken) }));
  const register = useMutation(trpc.auth.register.mutationOptions());

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (mode === 'register') await register.mutateAsync(form);
    await login.mutateAsync({ username: form.username, password: form.password });
  };
  const busy = login.isPending || register.isPending;
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });

  return (
    <section className="card narrow">
      <h1>{mode === 'signin' ? 'Sign in' : 'Create an account'}</h1>
      <form onSubmit={(e) => void submit(e).catch(() => {})}>
        <Field label={mode === 'signin' ? 'Username or email' : 'Username'}>
          <input value={form.username} onChange={set('username')} autoComplete="username" required />
        </Field>
        {mode === 'register' && (
          <Field label="Email">
            <input type="email" value={form.email} onChange={set('email')} autoComplete="email" required />
          </Field>
        )}
        <Field label="Password" hint={mode === 'register' ? 'At least 8 characters' : undefined}>
          <input
            type="password"
            value={form.password}
            onChange={set('password')}
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            required
          />
        </Field>
        <ErrorNote error={register.error ?? login.error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Please wait…' : mode === 'signin' ? 'Sign in' : 'Create account'}
        </button>
      </form>
      <p>
        {mode === 'signin' ? 'No account yet? ' : 'Have an account? '}
        <button
          type="button"
          className="link"
          onClick={() => {
            setMode(mode === 'signin' ? 'register' : 'signin');
            login.reset();
            register.reset();
          }}
        >
          {mode === 'signin' ? 'Create one' : 'Sign in'}
        </button>
      </p>
    </section>
  );
}
