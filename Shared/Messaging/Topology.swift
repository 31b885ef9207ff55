/// Exchanges, queues and bindings to declare, idempotently, on every (re)connection.
public struct Topology: Sendable, Equatable {
    public enum ExchangeKind: String, Sendable { case topic, direct, fanout }

    public struct ExchangeDeclaration: Sendable, Equatable {
        public var name: String
        public var kind: ExchangeKind
    }

    public var exchanges: [ExchangeDeclaration] = []
    public var queues: [QueueDeclaration] = []
    public var bindings: [Binding] = []

    public init(exchanges: [ExchangeDeclaration] = [], queues: [QueueDeclaration] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public static func + (lhs: Topology, rhs: Topology) -> Topology {
        Topology(exchanges: lhs.exchanges + rhs.exchanges, queues: lhs.queues + rhs.queues,
                 bindings: lhs.bindings + rhs.bindings)
    }

    /// The four shared exchanges of design.md §2.
    public static let exchanges = Topology(exchanges: [
        ExchangeDeclaration(name: Exchange.events, kind: .topic),
        ExchangeDeclaration(name: Exchange.commands, kind: .topic),
        ExchangeDeclaration(name: Exchange.retry, kind: .direct),
        ExchangeDeclaration(name: Exchange.dead, kind: .direct),
    ])

    /// A service's queues: its quorum work queue (bound to `<service>.#` commands and to the
    /// events it listens to), one TTL queue per retry delay that dead-letters back to the work
    /// queue, and its dead-letter queue. The numbers must match compose/rabbitmq/definitions.json,
    /// or the broker refuses the redeclaration.
    public static func service(_ name: String, events: [String] = [], retryDelays: [Duration],
                               deliveryLimit: Int) -> Topology {
        var topology = Topology.exchanges
        topology.queues.append(QueueDeclaration(name: name, arguments: [
            "x-queue-type": .string("quorum"),
            "x-delivery-limit": .int(Int64(deliveryLimit)),
            "x-dead-letter-exchange": .string(Exchange.dead),
            "x-dead-letter-routing-key": .string(deadQueue(name)),
        ]))
        topology.bindings.append(Binding(queue: name, exchange: Exchange.commands, routingKey: "\(name).#"))
        for key in Set(events).sorted() {
            topology.bindings.append(Binding(queue: name, exchange: Exchange.events, routingKey: key))
        }
        for delay in retryDelays {
            let queue = retryQueue(name, delay: delay)
            topology.queues.append(QueueDeclaration(name: queue, arguments: [
                "x-message-ttl": .int(delay.inMilliseconds),
                "x-dead-letter-exchange": .string(""),
                "x-dead-letter-routing-key": .string(name),
            ]))
            topology.bindings.append(Binding(queue: queue, exchange: Exchange.retry, routingKey: queue))
        }
        topology.queues.append(QueueDeclaration(name: deadQueue(name)))
        topology.bindings.append(Binding(queue: deadQueue(name), exchange: Exchange.dead, routingKey: deadQueue(name)))
        return topology
    }

    public static func deadQueue(_ service: String) -> String { "\(service).dead" }

    /// `registration.retry.10s`, `t-1234.retry.200ms`: the delay is in the name, so changing the
    /// delays makes new queues instead of conflicting with the old ones' arguments.
    public static func retryQueue(_ service: String, delay: Duration) -> String {
        let ms = delay.inMilliseconds
        let label = ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
        return "\(service).retry.\(label)"
    }
}

public struct QueueDeclaration: Sendable, Equatable {
    /// Empty for a server-named queue.
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    public var arguments: [String: HeaderValue]

    public init(name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                arguments: [String: HeaderValue] = [:]) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
    }

    /// A private, server-named queue that lives as long as its connection (reply queues).
    public static let privateReplyQueue = QueueDeclaration(name: "", durable: false, exclusive: true, autoDelete: true)
}

public struct Binding: Sendable, Equatable {
    public var queue: String
    public var exchange: String
    public var routingKey: String

    public init(queue: String, exchange: String, routingKey: String) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
    }
}
