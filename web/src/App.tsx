// App — the navbar and the page the current path names.
// Never: holds state of its own; pages and providers do.
import { Navbar } from './components/Navbar';
import { AuthPage } from './pages/AuthPage';
import { BookList } from './pages/BookList';
import { BookPage } from './pages/BookPage';
import { ChapterPage } from './pages/ChapterPage';
import { WalletPage } from './pages/WalletPage';
import { match, usePath } from './router';

function Page({ path }: { path: string }) {
  if (path === '/' || path === '') return <BookList />;
  if (path === '/signin') return <AuthPage mode="signin" />;
  if (path === '/signup') return <AuthPage mode="signup" />;
  if (path === '/wallet') return <WalletPage />;
  const book = match('/books/:id', path);
  if (book && Number(book.id) > 0) return <BookPage key={book.id} id={Number(book.id)} />;
  const chapter = match('/chapters/:id', path);
  if (chapter && Number(chapter.id) > 0) return <ChapterPage key={chapter.id} id={Number(chapter.id)} />;
  return (
    <main>
      <h1>Not found</h1>
      <p>There is no page at {path}.</p>
    </main>
  );
}

export function App() {
  const path = usePath();
  return (
    <>
      <Navbar />
      <Page path={path} />
    </>
  );
}
