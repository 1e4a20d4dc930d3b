// types — the API's resources as the node sends them (docs/api.md).
// Never: holds behaviour.

export interface User {
  id: number;
  username: string;
  display_name: string;
  bio: string;
  follower_count: number;
}

export interface Session {
  token: string;
  user: User;
}

export interface Book {
  id: number;
  author_id: number;
  title: string;
  description: string;
  published: boolean;
  chapter_count: number;
  updated_at: string;
}

export interface ChapterSummary {
  id: number;
  book_id: number;
  number: number;
  title: string;
  updated_at: string;
}

export interface Chapter extends ChapterSummary {
  body: string;
}

export interface Comment {
  id: number;
  chapter_id: number;
  user_id: number;
  body: string;
  created_at: string;
  author: { id: number; display_name: string };
}

export interface Notification {
  id: number;
  kind: 'gift_received' | 'new_chapter' | 'comment_on_book' | string;
  data: Record<string, unknown>;
  read: boolean;
  created_at: string;
}

export interface Collaborator {
  user_id: number;
  display_name: string;
}

export interface CoinPackage {
  id: number;
  coins: number;
  price_cents: number;
  label: string;
}

export interface Page<T> {
  items: T[];
  next: number | null;
}
