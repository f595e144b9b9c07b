import Appeals
import Foundation

extension AppConfig {
    /// The transport `smtp.url` names: a folder for `file://`, libcurl for `smtp://` and `smtps://`.
    /// - Parameter environment: where the password variable named by `smtp.passwordEnv` is read.
    /// - Throws: ``AppealsError/invalidInput(_:)`` naming the config key at fault.
    public func makeTransport(environment: [String: String] = ProcessInfo.processInfo.environment) throws(AppealsError) -> any MailTransport {
        let host: String, port: Int?, implicitTLS: Bool
        switch try smtp.endpoint() {
        case .folder(let path):
            return FileTransport(folder: path)
        case .smtp(let name, let number, let tls):
            (host, port, implicitTLS) = (name, number, tls)
        }
        var password: String?
        if let username = smtp.username {
            password = environment[smtp.passwordEnv]
            if password?.isEmpty ?? true {
                throw .invalid(InputLocation(file: "config", field: "smtp.passwordEnv"),
                               "smtp.username is \(username) but the variable \(smtp.passwordEnv) holding the password is not set")
            }
        }
        if let caFile = smtp.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw .invalid(InputLocation(file: "config", field: "smtp.caFile"), "\(caFile) cannot be read")
        }
        return CurlSMTPTransport(settings: SMTPSettings(
            host: host, port: port, implicitTLS: implicitTLS, security: smtp.security, username: smtp.username, password: password, caFile: smtp.caFile,
            timeoutSeconds: smtp.timeoutSeconds, heloName: sender.domain))
    }
}
