/// Every error the `Mailer` module reports.
public enum MailerError: Error, CustomStringConvertible, Equatable {
    /// An address that could smuggle a header or recipient, or is not `local@domain`.
    case invalidAddress(field: String, String)

    public var description: String {
        switch self {
        case .invalidAddress(let field, let address):
            "\(field): \(address.debugDescription) is not a valid email address"
        }
    }
}
