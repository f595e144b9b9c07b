import Appeals
import Foundation

/// Where a PostgreSQL store is: `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=FILE]`. The password
/// is never part of it: it comes from the environment variable that the config's `databasePasswordEnv` names.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected, as libpq's `sslmode` says it.
    public enum TLSMode: String, Sendable {
        /// Plain text: for a server on this machine or a private network only.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS always, without checking the server's certificate.
        case require
        /// TLS always, the certificate checked against `sslrootcert` (or the system's roots) and the host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    public var rootCertificate: String?

    /// - Throws: ``AppealsError/invalidInput(_:)`` naming `field` when the URL is not one.
    public init(url: String, field: InputLocation) throws(AppealsError) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme?.lowercased() ?? "") else {
            throw .invalid(field, "not a postgres://user@host:port/database URL")
        }
        if components.password != nil {
            throw .invalid(field, "the database password is never stored in the URL: put it in the environment variable named by databasePasswordEnv")
        }
        guard let user = components.user, !user.isEmpty else { throw .invalid(field, "the URL names no user (postgres://USER@host/database)") }
        guard let host = components.host, !host.isEmpty else { throw .invalid(field, "the URL names no host") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw .invalid(field, "the URL names no database (postgres://user@host/DATABASE)") }
        self.user = user.removingPercentEncoding ?? user
        // An IPv6 literal comes in brackets, which are not part of the address.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw .invalid(field, "port \(port) is not from 1 to 65535") }
        self.database = database.removingPercentEncoding ?? database
        guard !self.database.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid(field, "the database name holds a control character")
        }
        tls = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: item.value ?? "") else {
                    throw .invalid(field, "sslmode \"\(item.value ?? "")\" is not disable, prefer, require or verify-full")
                }
                tls = mode
            case "sslrootcert":
                rootCertificate = item.value
            default:
                throw .invalid(field, "unknown URL parameter \"\(item.name)\" (known: sslmode, sslrootcert)")
            }
        }
        if rootCertificate != nil && tls != .verifyFull { throw .invalid(field, "sslrootcert needs sslmode=verify-full") }
        if let rootCertificate, !FileManager.default.isReadableFile(atPath: rootCertificate) {
            throw .invalid(field, "sslrootcert \(rootCertificate) is not a file that can be read")
        }
    }

    /// The URL without anything secret (there is nothing secret in it): for messages.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}
