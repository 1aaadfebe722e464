"""The tasks: each named in :mod:`shared.task_names` after the module it lives in, and
sent by name to its queue (:data:`shared.queues.TASK_QUEUES`)."""

from shared import task_names
from shared.queues import TASK_QUEUES


def our_tasks():
    from worker import celery_app

    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def test_every_name_is_a_task_and_every_task_is_named(worker_environment):
    names = {value for key, value in vars(task_names).items() if key.isupper()}
    assert set(our_tasks()) == names


def test_each_task_is_named_after_its_module_and_function(worker_environment):
    for name, task in our_tasks().items():
        module, function = name.split(".")
        assert task.__module__ == f"worker.{module}", name
        if name != task_names.PUBLISH_STREAM_EVENT:  # named before the rule; kept for the queue
            assert task.run.__name__ == function, name


def test_a_task_sent_by_name_goes_to_its_queue(worker_environment):
    from worker import celery_app

    assert set(TASK_QUEUES) == set(our_tasks())
    assert TASK_QUEUES[task_names.PUBLISH_STREAM_EVENT] == "publish"
    assert set(TASK_QUEUES.values()) == {"publish", "maintenance", "push"}
    for name, queue in TASK_QUEUES.items():  # as the web sends it: by name, without the task
        assert celery_app.amqp.router.route({}, name)["queue"].name == queue, name
