import Appeals

/// Where and how to reach the SMTP server, from the config's `smtp` keys and the password's variable.
public struct SMTPSettings: Sendable {
    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    public var security: AppConfig.Security
    public var username: String?
    /// Read from the environment, never from a file; never printed.
    var password: String?
    public var caFile: String?
    public var timeoutSeconds: Int
    /// The name announced in EHLO.
    public var heloName: String

    public init(url: String, security: AppConfig.Security, username: String?, password: String?, caFile: String?,
                timeoutSeconds: Int, heloName: String) {
        self.url = url
        self.security = security
        self.username = username
        self.password = password
        self.caFile = caFile
        self.timeoutSeconds = timeoutSeconds
        self.heloName = heloName
    }
}

extension SMTPSettings: CustomStringConvertible {
    /// Safe to print: the password is never part of it.
    public var description: String {
        "\(url) (\(url.hasPrefix("smtps://") ? "TLS" : security.rawValue)\(username.map { ", user \($0)" } ?? ""))"
    }
}
