// BookList — the published books, 20 at a time ("More books" loads the next
// page), each linking to its book page. Cached reads: the node serves them
// from its cache, TanStack Query keeps them for the session.
// Never: shows unpublished books (the node does not list them).
import { QueryState } from '../components/QueryState';
import { useBookList } from '../queries';
import { Link } from '../router';

export function BookList() {
  const books = useBookList();
  return (
    <main>
      <h1>Books</h1>
      <QueryState query={books} what="books" isEmpty={(d) => d.pages[0].items.length === 0}>
        {(data) => (
          <>
            <ul className="cards" data-testid="book-list">
              {data.pages.flatMap((page) =>
                page.items.map((book) => (
                  <li key={book.id} className="card">
                    <Link to={`/books/${book.id}`}>{book.title}</Link>
                    <p>{book.description}</p>
                    <small>{book.chapter_count} chapters</small>
                  </li>
                )),
              )}
            </ul>
            {books.hasNextPage && (
              <button type="button" disabled={books.isFetchingNextPage} onClick={() => void books.fetchNextPage()}>
                {books.isFetchingNextPage ? 'Loading…' : 'More books'}
              </button>
            )}
          </>
        )}
      </QueryState>
    </main>
  );
}
