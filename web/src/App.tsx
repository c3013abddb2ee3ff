import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { AdminPage } from './pages/AdminPage.js';
import { AgentsPage } from './pages/AgentsPage.js';
import { ActivityPage } from './pages/ActivityPage.js';
import { ChatPage } from './pages/ChatPage.js';
import { LoginPage } from './pages/LoginPage.js';
import { MemoryPage } from './pages/MemoryPage.js';
import { useSession } from './session.js';
import { useTRPC } from './trpc.js';

function Header() {
  const trpc = useTRPC();
  const { signOut } = useSession();
  const me = useQuery(trpc.auth.me.queryOptions());
  return (
    <header className="topbar">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Link href="/agents" className="brand">
        MIRIX-TS
      </Link>
      <nav aria-label="Main">
        <Link href="/agents">Agents</Link>
        {me.data?.isSuperuser && <Link href="/admin">Admin</Link>}
        <a href="/docs/">API docs</a>
      </nav>
      <span className="me">{me.data?.username}</span>
      <button type="button" className="secondary" onClick={signOut}>
        Sign out
      </button>
    </header>
  );
}

function SignedIn() {
  const { signOut } = useSession();
  useEffect(() => {
    window.addEventListener('mirix:signed-out', signOut);
    return () => window.removeEventListener('mirix:signed-out', signOut);
  }, [signOut]);
  return (
    <>
      <Header />
      <main id="main">
        <Switch>
          <Route path="/agents" component={AgentsPage} />
          <Route path="/agents/:id/chat">{(p) => <ChatPage agentId={p.id} />}</Route>
          <Route path="/agents/:id/memory">{(p) => <MemoryPage agentId={p.id} />}</Route>
          <Route path="/agents/:id/activity">{(p) => <ActivityPage agentId={p.id} />}</Route>
          <Route path="/admin" component={AdminPage} />
          <Route>
            <Redirect to="/agents" />
          </Route>
        </Switch>
      </main>
    </>
  );
}

export function App() {
  const { token } = useSession();
  const [location] = useLocation();
  if (!token) {
    return location === '/login' ? (
      <main id="main">
        <LoginPage />
      </main>
    ) : (
      <Redirect to="/login" />
    );
  }
  if (location === '/login') return <Redirect to="/agents" />;
  return <SignedIn />;
}
