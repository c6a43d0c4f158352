// Nesting the REST operations the way a Mesh user would: Task.instance -> tasks, Task.variables.
const TASK_FIELDS =
  '{ id name definitionId instanceId processName assignee candidateUsers candidateGroups createTime status }';

function jsonType(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') return 'NUMBER';
  if (typeof value === 'string') return 'STRING';
  return Array.isArray(value) ? 'ARRAY' : 'OBJECT';
}

module.exports = {
  resolvers: {
    Task: {
      instance: {
        selectionSet: '{ instanceId }',
        resolve: (root) => ({ id: root.instanceId }),
      },
      variables: {
        selectionSet: '{ id }',
        resolve: async (root, _args, context, info) => {
          const reply = await context.Oneweb.Query.taskVariables({
            root,
            args: { taskId: root.id },
            context,
            info,
            selectionSet: '{ ... on VariablesReply { data } }',
          });
          const data = (reply && reply.data) || {};
          return Object.keys(data).map((name) => ({ name, value: data[name], type: jsonType(data[name]) }));
        },
      },
    },
    TaskInstance: {
      tasks: {
        resolve: async (root, _args, context, info) => {
          const reply = await context.Oneweb.Query.instanceTasks({
            root,
            args: { instanceId: root.id },
            context,
            info,
            selectionSet: `{ ... on TaskList { data ${TASK_FIELDS} } }`,
          });
          return reply && reply.data;
        },
      },
    },
  },
};
