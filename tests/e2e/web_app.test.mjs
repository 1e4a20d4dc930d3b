// web_app — the demo app (web/) in headless Chromium, two users in two
// browser contexts against a real node: sign up and sign in through the
// forms, the book list, book and chapter pages; a comment posted by one
// shows on the other's page without a reload; each sees the other among the
// chapter's collaborators; a gift changes the receiver's balance and bell
// without a reload; a user going offline leaves the other's collaborator
// list; a page whose network drops and comes back (the browser's offline
// emulation) catches up on what it missed through the live client's resume
// (the app never refetches on reconnect by itself).
// Set E2E_SCREENSHOT=<path.png> to save the chapter page with live comments.
// Never: waits for time, reloads a page it checks for a live update, or
// downloads a browser (Debian's /usr/bin/chromium, see lib/app.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, register } from '../integration/lib/harness.mjs';
import { newBook, newChapter, stamp } from '../integration/lib/platform.mjs';
import { launchBrowser, markPage, openUser, sessionOf, startApp, stillSamePage, waitForText } from './lib/app.mjs';

const app = await startApp();
const browser = await launchBrowser();
const author = await register(app.url);
const book = await newBook(app.url, author.token, { title: `The Switchboard Mysteries ${stamp()}`, description: 'A book for the browser tests.' });
const chapter = await newChapter(app.url, author.token, book.id, {
  title: 'The Night Operator',
  body: 'The board lit up at midnight.\n\nEvery line was ringing at once, and nobody was calling.',
});
const chapterPath = `/chapters/${chapter.id}`;
const a = await openUser(browser, app.url);
const b = await openUser(browser, app.url);
const bAccount = await register(app.url);
const renamed = await api(app.url, 'PATCH', '/api/users/me', { token: bAccount.token, body: { display_name: 'Bo Listener' } });
assert.equal(renamed.status, 200, renamed.text);
let aUser; // filled in by the sign-up test

const collaborator = (page, userId) => page.locator(`[data-testid=collaborator][data-user-id="${userId}"]`);
const comment = (page, text) => page.locator('[data-testid=comment]', { hasText: text });
const liveState = (page, state) => page.locator(`[data-testid=live-state][data-state=${state}]`);

async function openChapter(user) {
  await user.page.goto(chapterPath);
  await user.page.locator('[data-testid=comments][data-subscribed=true]').waitFor();
  await markPage(user.page);
}

async function postComment(user, text) {
  await user.page.getByLabel('Your comment').fill(text);
  await user.page.getByRole('button', { name: 'Post comment' }).click();
}

test('sign up and sign in through the forms; the book list, book and chapter pages', async () => {
  const username = `e2e_${stamp()}`.slice(0, 32);
  await a.page.goto('/signup');
  await a.page.locator('input[name=username]').fill(username);
  await a.page.locator('input[name=password]').fill('password123');
  await a.page.locator('input[name=display_name]').fill('Ada Reader');
  await a.page.getByRole('button', { name: 'Create account' }).click();
  await waitForText(a.page, 'who', 'Ada Reader');
  aUser = (await sessionOf(a.page)).user;
  await a.page.locator('[data-testid=book-list] li').first().waitFor();
  await waitForText(a.page, 'balance', '0');

  await b.page.goto('/signin');
  await b.page.locator('input[name=username]').fill(bAccount.user.username);
  await b.page.locator('input[name=password]').fill('wrong-password');
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await b.page.getByRole('alert').waitFor(); // a wrong pair is refused, and said so
  await b.page.locator('input[name=password]').fill('password123');
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await waitForText(b.page, 'who', 'Bo Listener');

  await a.page.goto(`/books/${book.id}`);
  await waitForText(a.page, 'book-title', book.title);
  await a.page.getByRole('link', { name: chapter.title }).click();
  await waitForText(a.page, 'chapter-title', `1. ${chapter.title}`);
  await a.page.getByText('Every line was ringing at once').waitFor();
  await a.page.getByText('No comments yet.').waitFor();
});

test("A buys coins in the wallet; the navbar's balance follows", async () => {
  await a.page.goto('/wallet');
  const packages = await api(app.url, 'GET', '/api/coin-packages');
  const first = packages.body.items[0];
  assert.ok(first, `the node has coin packages: ${packages.text}`);
  await a.page.getByRole('button', { name: 'Buy' }).first().click();
  await waitForText(a.page, 'balance', String(first.coins));
});

test("a comment A posts shows on B's page without a reload, and B's reply on A's", async () => {
  await openChapter(a);
  await openChapter(b);
  await postComment(a, 'Who is calling at midnight?');
  await comment(b.page, 'Who is calling at midnight?').waitFor();
  await postComment(b, 'The operator herself, I bet.');
  await comment(a.page, 'The operator herself, I bet.').waitFor();
  // B's own comment reaches B's page by its own path (the post's answer and
  // the push); A's page may show it first, so wait for it before counting.
  await comment(b.page, 'The operator herself, I bet.').waitFor();
  assert.ok(await stillSamePage(a.page), "A's page was not reloaded");
  assert.ok(await stillSamePage(b.page), "B's page was not reloaded");
  assert.equal(await b.page.locator('[data-testid=comment]').count(), 2);
});

test("each sees the other among the chapter's collaborators", async () => {
  await collaborator(a.page, bAccount.user.id).waitFor();
  await collaborator(b.page, aUser.id).waitFor();
  await collaborator(a.page, aUser.id).getByText('(you)').waitFor();
});

test("A sends B a gift: B's balance and bell change without a reload", async () => {
  const aBefore = Number(await a.page.getByTestId('balance').textContent());
  await waitForText(b.page, 'balance', '0');
  assert.equal(await b.page.getByTestId('unread').count(), 0, 'B starts with no unread notification');
  await collaborator(a.page, bAccount.user.id).getByTestId('gift').click();
  await waitForText(b.page, 'balance', '10');
  await waitForText(b.page, 'unread', '1');
  await waitForText(a.page, 'balance', String(aBefore - 10));
  if (process.env.E2E_SCREENSHOT) await b.page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });
  await b.page.getByTestId('bell').click();
  await b.page.getByTestId('notifications').getByText('Ada Reader sent you 10 coins').waitFor();
  assert.ok(await stillSamePage(b.page), "B's page was not reloaded");
});

test("B goes offline: A sees B leave the collaborators, and come back", async () => {
  await b.context.setOffline(true);
  await liveState(b.page, 'offline').waitFor();
  await collaborator(a.page, bAccount.user.id).waitFor({ state: 'detached' });
  await b.context.setOffline(false);
  await liveState(b.page, 'open').waitFor();
  await collaborator(a.page, bAccount.user.id).waitFor();
});

test("A's network drops and comes back: A's page catches up on what it missed", async () => {
  await a.context.setOffline(true);
  await liveState(a.page, 'offline').waitFor();
  const aCoins = Number(await a.page.getByTestId('balance').textContent());
  const comments = await a.page.locator('[data-testid=comment]').count();
  // While A is away: B comments (through B's page) and sends A a gift.
  await collaborator(b.page, aUser.id).waitFor({ state: 'detached' });
  await postComment(b, 'Did you hear that? The line went dead.');
  await comment(b.page, 'Did you hear that? The line went dead.').waitFor();
  const bToken = (await sessionOf(b.page)).token;
  const gift = await api(app.url, 'POST', '/api/gifts', { token: bToken, body: { to_user_id: aUser.id, coins: 3 } });
  assert.equal(gift.status, 201, gift.text);
  assert.equal(await a.page.locator('[data-testid=comment]').count(), comments, 'nothing reached A while offline');

  await a.context.setOffline(false);
  await comment(a.page, 'Did you hear that? The line went dead.').waitFor();
  await waitForText(a.page, 'balance', String(aCoins + 3));
  await waitForText(a.page, 'unread', '1');
  await liveState(a.page, 'open').waitFor();
  assert.ok(await stillSamePage(a.page), "A's page caught up without a reload");
  assert.deepEqual([...a.errors, ...b.errors], [], 'no page errors');
});
