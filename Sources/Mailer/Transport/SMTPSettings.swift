import Appeals

/// Where and how to reach the SMTP server, from the config's `smtp` keys and the password's variable.
public struct SMTPSettings: Sendable {
    public var host: String
    public var port: Int?
    /// `smtps://`: TLS from the first byte; otherwise `security` says whether STARTTLS is required.
    public var implicitTLS: Bool
    public var security: AppConfig.Security
    public var username: String?
    /// Read from the environment, never from a file; never printed.
    var password: String?
    public var caFile: String?
    public var timeoutSeconds: Int
    /// The name announced in EHLO.
    public var heloName: String

    public init(host: String, port: Int?, implicitTLS: Bool, security: AppConfig.Security, username: String?, password: String?,
                caFile: String?, timeoutSeconds: Int, heloName: String) {
        self.host = host
        self.port = port
        self.implicitTLS = implicitTLS
        self.security = security
        self.username = username
        self.password = password
        self.caFile = caFile
        self.timeoutSeconds = timeoutSeconds
        self.heloName = heloName
    }
}

extension SMTPSettings: CustomStringConvertible {
    /// `smtp://host:port` or `smtps://host:port`: scheme, host and port only.
    public var url: String { MailEndpoint.smtp(host: host, port: port, implicitTLS: implicitTLS).curlURL! }

    /// Safe to print: the password is never part of it.
    public var description: String {
        "\(url) (\(implicitTLS ? "TLS" : security.rawValue)\(username.map { ", user \($0)" } ?? ""))"
    }
}
