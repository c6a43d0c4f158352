// The operations of a task inbox: the viewer's open tasks, claim a task, complete it.
// graphql-codegen reads these and writes their types (and the manifest) to src/gql/.
import { graphql } from './gql/index.js';

export const InboxQuery = graphql(`
  query Inbox($filter: TaskFilter) {
    viewer {
      user
      inbox(filter: $filter) {
        totalCount
        nodes {
          id
          name
          definitionId
          status
          assignee
          instanceId
        }
      }
    }
  }
`);

export const StartProcessMutation = graphql(`
  mutation StartProcess($processName: String!, $variables: JSON) {
    startProcess(input: { processName: $processName, variables: $variables }) {
      instance {
        id
      }
      errors {
        code
        message
      }
    }
  }
`);

export const ClaimTaskMutation = graphql(`
  mutation ClaimTask($taskId: ID!) {
    claimTask(input: { taskId: $taskId }) {
      task {
        id
        status
        assignee
      }
      errors {
        code
        message
      }
    }
  }
`);

export const CompleteTaskMutation = graphql(`
  mutation CompleteTask($taskId: ID!, $variables: JSON) {
    completeTask(input: { taskId: $taskId, variables: $variables }) {
      task {
        id
      }
      instance {
        id
        tasks {
          id
          name
          definitionId
          status
        }
      }
      errors {
        code
        message
      }
    }
  }
`);
