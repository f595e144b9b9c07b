import Foundation

/// An email the web server sends itself (a confirmation request), kept in the database until the transport
/// has taken it, so that a restart loses none.
public struct OutboxMessage: Sendable, Equatable {
    public var id: Int64?
    public var recipient: String
    public var envelopeFrom: String
    /// The whole message, as sent.
    public var message: Data
    public var attempts: Int

    public init(id: Int64? = nil, recipient: String, envelopeFrom: String, message: Data, attempts: Int = 0) {
        self.id = id
        self.recipient = recipient
        self.envelopeFrom = envelopeFrom
        self.message = message
        self.attempts = attempts
    }
}
