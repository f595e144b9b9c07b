/// Where `smtp.url` sends messages, parsed once when the config is read.
public enum MailEndpoint: Sendable, Equatable {
    /// `file:///dir`: each message written as a file into a folder.
    case folder(String)
    /// `smtp://host[:port]` (TLS per `smtp.security`) or `smtps://host[:port]` (TLS from the first byte).
    case smtp(host: String, port: Int?, implicitTLS: Bool)

    /// Parses `smtp.url`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` naming `smtp.url`, with the URL shown without any user-info.
    public init(url: String, file: String = "config") throws(AppealsError) {
        func fail(_ message: String) -> AppealsError {
            .invalid(InputLocation(file: file, field: "smtp.url"), "\"\(Self.redacted(url))\" \(message)")
        }
        let url = Self.lowercasingScheme(url)
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard !path.isEmpty, !path.contains("\0") else { throw fail("needs a folder, such as file:///var/spool/appeal") }
            self = .folder(path)
            return
        }
        let implicitTLS: Bool
        if url.hasPrefix("smtps://") {
            implicitTLS = true
        } else if url.hasPrefix("smtp://") {
            implicitTLS = false
        } else {
            throw fail("is not smtp://host:port, smtps://host:port or file:///folder")
        }
        let rest = url.drop { $0 != "/" }.dropFirst(2)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let tail = rest.dropFirst(authority.count)
        if rest.contains("@") {
            throw fail("holds a user name or password: put the user name in smtp.username and the password in the environment variable named by smtp.passwordEnv")
        }
        guard tail.isEmpty || tail == "/" else { throw fail("must not have a path, query or fragment: only scheme, host and port") }
        var host = Substring(authority)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw fail("has an unclosed [ in its host") }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("has something after its IPv6 address that is not a port") }
                portText = after.dropFirst()
            }
            host = host[...close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\\" && $0.asciiValue.map { $0 >= 0x21 } == true }) else {
            throw fail("has no valid host name")
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
                  let value = Int(portText), (1...65535).contains(value)
            else { throw fail("has an invalid port \"\(portText)\": a port is a number from 1 to 65535") }
            port = value
        }
        self = .smtp(host: String(host), port: port, implicitTLS: implicitTLS)
    }

    /// The URL libcurl is given: scheme, host and port only.
    public var curlURL: String? {
        guard case .smtp(let host, let port, let implicitTLS) = self else { return nil }
        return "\(implicitTLS ? "smtps" : "smtp")://\(host)\(port.map { ":\($0)" } ?? "")"
    }

    /// `url` with its scheme in lower case (schemes are case-insensitive: `SMTP://` is `smtp://`).
    public static func lowercasingScheme(_ url: String) -> String {
        url.range(of: "://").map { url[..<$0.lowerBound].lowercased() + url[$0.lowerBound...] } ?? url
    }

    /// `url` without anything that could be user-info, safe to print: whatever comes before the last `@`
    /// (after the scheme) is left out, however malformed the rest is.
    public static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let scheme = url.range(of: "://").map { url[..<$0.upperBound] } ?? url.prefix { $0.isLetter }
        return String(scheme) + "…@" + String(url[url.index(after: at)...])
    }
}
