import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';

/**
 * The session: only the access token is kept in the browser (localStorage), nothing else. The
 * queue dashboard (/admin/queues) is a server page that reads the same token from a cookie.
 */
const KEY = 'mirix.token';

function writeCookie(token: string | null) {
  const secure = window.location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = token
    ? `mirix_token=${encodeURIComponent(token)}; Path=/admin/queues; SameSite=Strict${secure}`
    : `mirix_token=; Path=/admin/queues; Max-Age=0; SameSite=Strict${secure}`;
}

export function readToken(): string | null {
  return window.localStorage.getItem(KEY);
}

interface Session {
  token: string | null;
  signIn: (token: string) => void;
  signOut: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children, onChange }: { children: ReactNode; onChange: () => void }) {
  const [token, setToken] = useState(readToken);
  // The cookie lasts as long as the browser session; the token may outlive it in localStorage.
  useEffect(() => writeCookie(token), [token]);
  const signIn = useCallback(
    (t: string) => {
      window.localStorage.setItem(KEY, t);
      setToken(t);
      onChange();
    },
    [onChange],
  );
  const signOut = useCallback(() => {
    window.localStorage.removeItem(KEY);
    setToken(null);
    onChange();
  }, [onChange]);
  const value = useMemo(() => ({ token, signIn, signOut }), [token, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
