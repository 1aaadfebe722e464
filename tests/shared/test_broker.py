"""The Redis broker transport that publishes through one client per channel, against a
real Redis: messages go out and come back as with kombu's own, on one client."""

from kombu import Connection, Exchange, Producer, Queue

from shared.broker import Channel, SentinelChannel, SentinelTransport, Transport


def test_a_channel_publishes_every_message_through_one_client(redis_server, redis_client):
    queue = Queue("broker-test", Exchange("broker-test"), "broker-test")
    with Connection(redis_server, transport=Transport) as connection:
        channel = connection.channel()
        assert isinstance(channel, Channel)
        producer = Producer(channel)
        clients = []
        for number in range(3):
            producer.publish(
                {"n": number}, exchange=queue.exchange, routing_key="broker-test", declare=[queue]
            )
            with channel.conn_or_acquire() as client:
                clients.append(client)
        assert all(client is clients[0] for client in clients), "one client for every message"
        assert redis_client.llen("broker-test") == 3
        taken = [queue(channel).get(no_ack=True).payload for _ in range(3)]
        assert taken == [{"n": 0}, {"n": 1}, {"n": 2}], "in the order sent"
        with channel.conn_or_acquire(redis_client) as given:
            assert given is redis_client, "a client given is used as it is"


def test_the_sentinel_transport_reuses_its_client_too():
    assert SentinelTransport.Channel is SentinelChannel
    assert SentinelChannel.conn_or_acquire is Channel.conn_or_acquire
