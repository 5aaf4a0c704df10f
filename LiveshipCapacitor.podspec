require 'json'

package = JSON.parse(File.read(File.join(__dir__, 'package.json')))

Pod::Spec.new do |s|
  s.name = 'LiveshipCapacitor'
  s.version = package['version']
  s.summary = package['description']
  s.license = package['license']
  s.homepage = 'https://github.com/liveship/liveship'
  s.author = package['author']
  s.source = { :git => 'https://github.com/liveship/liveship.git', :tag => s.version.to_s }
  # The plugin's Swift sources plus the generated uniffi bindings (ios/Sources/LiveshipPlugin/Generated).
  s.source_files = 'ios/Sources/**/*.{swift,h,m}'
  # The Rust core: static libraries for device and simulator, built by scripts/build-ios.sh.
  s.vendored_frameworks = 'ios/Liveship.xcframework'
  s.ios.deployment_target = '15.0'
  s.dependency 'Capacitor'
  s.swift_version = '5.9'
  # Security: rustls-platform-verifier (the core's TLS trust) calls SecTrust; a Rust static library
  # carries no auto-link entries, so the framework is named here.
  s.frameworks = 'BackgroundTasks', 'WebKit', 'Security'
end
