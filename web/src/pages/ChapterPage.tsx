// ChapterPage — a chapter to read, its comments (live: a new comment on the
// chapter's channel refreshes the list without a reload), and for a signed-in
// reader the chapter's collaborators — whoever has it open, from presence on
// collab:chapter:<id> — each with a gift button, and a comment form.
// Never: shows a collaborator list to an anonymous reader (the node refuses
// it), or sends a gift twice for one click.
import { useState, type FormEvent } from 'react';
import { QueryState } from '../components/QueryState';
import { useChannel } from '../live';
import { idempotencyKey, useChapter, useComments, usePostComment, usePresence, useSendGift } from '../queries';
import { Link } from '../router';
import { useSession } from '../session';
import type { Collaborator } from '../types';

export function ChapterPage({ id }: { id: number }) {
  const chapter = useChapter(id);
  const { session } = useSession();
  return (
    <main className="chapter-page">
      <article>
        <QueryState query={chapter} what="the chapter">
          {(c) => (
            <>
              <Link to={`/books/${c.book_id}`}>← Back to the book</Link>
              <h1 data-testid="chapter-title">
                {c.number}. {c.title}
              </h1>
              <div className="chapter-body">
                {c.body.split(/\n{2,}/).map((p, i) => (
                  <p key={i}>{p}</p>
                ))}
              </div>
            </>
          )}
        </QueryState>
        <Comments chapterId={id} />
      </article>
      {session && <Collaborators chapterId={id} me={session.user.id} />}
    </main>
  );
}

function Comments({ chapterId }: { chapterId: number }) {
  const comments = useComments(chapterId);
  const { subscribed } = useChannel(`comments:chapter:${chapterId}`);
  const { session } = useSession();
  return (
    <section className="comments" data-testid="comments" data-subscribed={subscribed}>
      <h2>Comments</h2>
      {session ? <CommentForm chapterId={chapterId} /> : <p><Link to="/signin">Sign in</Link> to comment.</p>}
      <QueryState query={comments} what="comments" isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <ul className="comment-list" data-testid="comment-list">
            {d.items.map((c) => (
              <li key={c.id} data-testid="comment">
                <strong>{c.author.display_name}</strong> <time dateTime={c.created_at}>{new Date(c.created_at).toLocaleString()}</time>
                <p>{c.body}</p>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </section>
  );
}

function CommentForm({ chapterId }: { chapterId: number }) {
  const post = usePostComment(chapterId);
  const [body, setBody] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (body.trim()) post.mutate(body, { onSuccess: () => setBody('') });
  };
  return (
    <form className="comment-form" onSubmit={submit}>
      <textarea aria-label="Your comment" value={body} maxLength={4000} onChange={(e) => setBody(e.target.value)} placeholder="Say something about this chapter" />
      <button type="submit" disabled={post.isPending || !body.trim()}>
        {post.isPending ? 'Posting…' : 'Post comment'}
      </button>
      {post.isError && <p className="state error" role="alert">Could not post: {post.error.message}</p>}
    </form>
  );
}

function Collaborators({ chapterId, me }: { chapterId: number; me: number }) {
  const channel = `collab:chapter:${chapterId}`;
  const presence = usePresence(channel);
  useChannel(channel);
  return (
    <aside className="collaborators" data-testid="collaborators">
      <h2>Reading now</h2>
      <QueryState query={presence} what="collaborators" isEmpty={(d) => d.users.length === 0}>
        {(d) => (
          <ul>
            {d.users.map((u) => (
              <li key={u.user_id} data-testid="collaborator" data-user-id={u.user_id}>
                <span>{u.display_name}</span>
                {u.user_id === me ? <small> (you)</small> : <GiftButton to={u} />}
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </aside>
  );
}

const GIFT_COINS = 10;

function GiftButton({ to }: { to: Collaborator }) {
  const gift = useSendGift();
  return (
    <span className="gift">
      <button
        type="button"
        data-testid="gift"
        disabled={gift.isPending}
        onClick={() => gift.mutate({ toUserId: to.user_id, coins: GIFT_COINS, key: idempotencyKey() })}
      >
        Gift {GIFT_COINS} coins
      </button>
      {gift.isSuccess && <small className="state ok"> Sent!</small>}
      {gift.isError && (
        <small className="state error" role="alert">
          {' '}
          {gift.error.message}
        </small>
      )}
    </span>
  );
}
