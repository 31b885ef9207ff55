/// What can go wrong talking to the broker.
public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The TCP connection or login failed.
    case connectionFailed(String)
    /// The broker closed the connection or channel (code and text as the broker sent them).
    case closedByBroker(code: Int, text: String)
    /// A library-level failure (socket error, heartbeat timeout, protocol violation).
    case library(String)
    /// The broker refused the message (`basic.nack`).
    case nacked
    /// A mandatory message matched no queue (`basic.return`).
    case unroutable(exchange: String, routingKey: String)
    /// Not confirmed before its deadline.
    case timedOut
    /// The publisher or consumer is shutting down.
    case shutDown

    public var description: String {
        switch self {
        case .connectionFailed(let reason): "cannot connect to the broker: \(reason)"
        case .closedByBroker(let code, let text): "broker closed the connection (\(code)): \(text)"
        case .library(let reason): "AMQP error: \(reason)"
        case .nacked: "the broker refused the message (nack)"
        case .unroutable(let exchange, let key): "no queue is bound for \(exchange) / \(key)"
        case .timedOut: "the broker did not confirm the message in time"
        case .shutDown: "shutting down"
        }
    }
}
