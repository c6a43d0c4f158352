// The BookingRoom walkthrough as a clerk's frontend does it: start a booking, find its
// Choose Room task in the clerk's inbox, claim it, complete it, see the next task.
//
//   node dist/main.js http://127.0.0.1:8000/graphql clerk1
import { createClient } from './client.js';
import {
  ClaimTaskMutation,
  CompleteTaskMutation,
  InboxQuery,
  StartProcessMutation,
} from './operations.js';

async function main(endpoint: string, user: string): Promise<void> {
  const execute = createClient({
    endpoint,
    headers: { 'X-Remote-User': user, 'X-Remote-Groups': 'Clerk' },
  });

  const started = await execute(StartProcessMutation, {
    processName: 'BookingRoom',
    variables: { customer: 'Ada Lovelace', nights: 2 },
  });
  const instanceId = started.startProcess.instance?.id;
  if (instanceId === undefined) throw new Error(`start failed: ${JSON.stringify(started)}`);

  // The viewer's inbox: who is asking comes from the headers, so the query names no group.
  const inbox = await execute(InboxQuery, { filter: { definitionId: ['ChooseRoom'] } });
  const task = inbox.viewer?.inbox?.nodes.find((node) => node.instanceId === instanceId);
  if (task === undefined) throw new Error(`no ChooseRoom task in ${user}'s inbox`);

  const claimed = await execute(ClaimTaskMutation, { taskId: task.id });
  if (claimed.claimTask.errors.length > 0) throw new Error(claimed.claimTask.errors[0]?.message);

  const completed = await execute(CompleteTaskMutation, {
    taskId: task.id,
    variables: { roomBooked: false },
  });
  const next = completed.completeTask.instance?.tasks?.map((open) => open.definitionId) ?? [];
  console.log(JSON.stringify({ instanceId, claimed: claimed.claimTask.task?.assignee, next }));
}

const [endpoint = 'http://127.0.0.1:8000/graphql', user = 'clerk1'] = process.argv.slice(2);
main(endpoint, user).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
