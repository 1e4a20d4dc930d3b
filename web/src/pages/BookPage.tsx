// BookPage — one book and its chapters, kept current by the book's channel
// (book.updated / chapter.created invalidate ["books",id]).
// Never: lets one failed read hide the other: the book and its chapters are
// asked for at once and each shows its own loading, error and empty state.
import { QueryState } from '../components/QueryState';
import { useChannel } from '../live';
import { useBook, useChapters } from '../queries';
import { Link } from '../router';

export function BookPage({ id }: { id: number }) {
  const book = useBook(id);
  const chapters = useChapters(id);
  useChannel(`books:${id}`);
  return (
    <main>
      <QueryState query={book} what="the book">
        {(b) => (
          <>
            <h1 data-testid="book-title">{b.title}</h1>
            <p>{b.description}</p>
          </>
        )}
      </QueryState>
      <h2>Chapters</h2>
      <QueryState query={chapters} what="chapters" isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <ol className="chapters" data-testid="chapter-list">
            {d.items.map((c) => (
              <li key={c.id} value={c.number}>
                <Link to={`/chapters/${c.id}`}>{c.title}</Link>
              </li>
            ))}
          </ol>
        )}
      </QueryState>
    </main>
  );
}
