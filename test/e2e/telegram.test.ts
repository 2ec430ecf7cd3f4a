import { afterEach, describe, expect, it } from 'vitest';
import type { Message, Session } from '../../src/sessions/schema.js';
import { startTestFlynn, type TestFlynn } from '../flynn.js';
import { TelegramStandIn } from '../telegram-stand-in.js';

const ALICE = 777;
let flynn: TestFlynn | undefined;
let telegram: TelegramStandIn | undefined;

afterEach(async () => {
  await flynn?.stop();
  await telegram?.close();
  flynn = undefined;
});

describe('telegram alongside the gateway', () => {
  it('shares sessions both ways and reports its status in system.health', async () => {
    telegram = await new TelegramStandIn().start();
    flynn = await startTestFlynn({ telegram: { token: '42:SECRET', allowedUsers: [ALICE], apiRoot: telegram.url } });
    const c = await flynn.client();
    await telegram.waitForCall((call) => call.method === 'getUpdates');
    expect((await c.call('system.health')).telegram).toEqual({ status: 'polling', username: 'flynn_test_bot' });

    // Telegram → gateway: the chat's session is an ordinary one.
    telegram.userSays(ALICE, 'from my phone');
    await telegram.waitForCall((call) => call.method === 'editMessageText' || (call.method === 'sendMessage' && /offline provider/.test(String(call.body.text))));
    const { sessions } = await c.call<{ sessions: Session[] }>('sessions.list');
    expect(sessions).toHaveLength(1);
    const history = await c.call<{ messages: Message[] }>('sessions.history', { sessionId: sessions[0]!.id });
    expect(history.messages[0]).toMatchObject({ role: 'user', content: 'from my phone' });

    // Gateway → Telegram: a session started over the gateway is continued with /switch.
    await c.call('agent.send', { message: 'Started on the laptop' });
    telegram.userSays(ALICE, '/switch 1');
    await telegram.waitForCall((call) => call.method === 'sendMessage' && /Switched to “Started on the laptop”/.test(String(call.body.text)));
  });

  it('refuses to start without allowed users', async () => {
    await expect(startTestFlynn({ telegram: { token: '42:SECRET' } })).rejects.toThrow(/telegram.allowedUsers/);
  });
});
