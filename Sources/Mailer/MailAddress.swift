import Appeals

/// A mailbox: an optional display name and a plain `local@domain` address.
public struct MailAddress: Sendable, Equatable {
    public var name: String?
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }

    /// Refuses anything but a plain address: CR, LF, spaces, commas or brackets could add a recipient.
    func validated(field: String) throws(MailerError) -> MailAddress {
        guard EmailAddress.problem(with: address) == nil else { throw .invalidAddress(field: field, address) }
        return self
    }
}
