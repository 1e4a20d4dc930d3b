// WalletPage — the balance and the coin packages to buy (payment is
// simulated by the node); a purchase puts the new balance in the cache.
// Never: shows anything to an anonymous visitor but a way to sign in.
import { QueryState } from '../components/QueryState';
import { useBalance, useBuyCoins, useCoinPackages } from '../queries';
import { Link } from '../router';
import { useSession } from '../session';

export function WalletPage() {
  const { session } = useSession();
  const balance = useBalance();
  const packages = useCoinPackages();
  const buy = useBuyCoins();
  if (!session)
    return (
      <main>
        <p>
          <Link to="/signin">Sign in</Link> to see your wallet.
        </p>
      </main>
    );
  return (
    <main>
      <h1>Wallet</h1>
      <QueryState query={balance} what="your balance">
        {(b) => <p className="big">{b.coins} coins</p>}
      </QueryState>
      <h2>Buy coins</h2>
      <QueryState query={packages} what="coin packages" isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <ul className="cards">
            {d.items.map((p) => (
              <li key={p.id} className="card">
                <strong>{p.label}</strong>
                <p>
                  {p.coins} coins for ${(p.price_cents / 100).toFixed(2)}
                </p>
                <button type="button" disabled={buy.isPending} onClick={() => buy.mutate(p.id)}>
                  Buy
                </button>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
      {buy.isError && (
        <p className="state error" role="alert">
          Could not buy: {buy.error.message}
        </p>
      )}
    </main>
  );
}
