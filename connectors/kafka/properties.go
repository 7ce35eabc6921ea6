package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Properties are the client properties a source passes through
// (`properties.*` without the prefix), named as librdkafka and kcat name
// them:
//
//	client.id                overrides Options.ClientID
//	security.protocol        PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
//	sasl.mechanism           PLAIN (default), SCRAM-SHA-256, SCRAM-SHA-512
//	sasl.username, sasl.password
//	ssl.ca.location          PEM file of the CAs to trust (default: the system's)
//	ssl.certificate.location, ssl.key.location   PEM client certificate and key
//	ssl.endpoint.identification.algorithm        https (default) or none
//
// Any other name is an error rather than silently ignored.
type Properties map[string]string

var knownProperties = []string{
	"client.id", "security.protocol", "sasl.mechanism", "sasl.username", "sasl.password",
	"ssl.ca.location", "ssl.certificate.location", "ssl.key.location",
	"ssl.endpoint.identification.algorithm",
}

// clientOpts turns the properties into franz-go options, to be given after
// the reader's own.
func (p Properties) clientOpts() ([]kgo.Opt, error) {
	for name := range p {
		if !slices.Contains(knownProperties, name) {
			return nil, fmt.Errorf("kafka: unknown property %q (known: %s)", name, strings.Join(knownProperties, ", "))
		}
	}
	var opts []kgo.Opt
	if id := p["client.id"]; id != "" {
		opts = append(opts, kgo.ClientID(id))
	}
	var useTLS, useSASL bool
	switch proto := strings.ToUpper(p["security.protocol"]); proto {
	case "", "PLAINTEXT":
	case "SSL":
		useTLS = true
	case "SASL_PLAINTEXT":
		useSASL = true
	case "SASL_SSL":
		useTLS, useSASL = true, true
	default:
		return nil, fmt.Errorf("kafka: security.protocol %q: want PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", proto)
	}
	if useTLS {
		cfg, err := p.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if useSASL {
		user, pass := p["sasl.username"], p["sasl.password"]
		if user == "" {
			return nil, errors.New("kafka: SASL needs sasl.username and sasl.password")
		}
		switch mech := strings.ToUpper(p["sasl.mechanism"]); mech {
		case "", "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
		default:
			return nil, fmt.Errorf("kafka: sasl.mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mech)
		}
	}
	return opts, nil
}

func (p Properties) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := p["ssl.ca.location"]; ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("kafka: ssl.ca.location: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka: ssl.ca.location %q holds no PEM certificate", ca)
		}
	}
	cert, key := p["ssl.certificate.location"], p["ssl.key.location"]
	if (cert == "") != (key == "") {
		return nil, errors.New("kafka: ssl.certificate.location and ssl.key.location go together")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("kafka: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	switch alg := strings.ToLower(p["ssl.endpoint.identification.algorithm"]); alg {
	case "", "https":
	case "none":
		cfg.InsecureSkipVerify = true
	default:
		return nil, fmt.Errorf("kafka: ssl.endpoint.identification.algorithm %q: want https or none", alg)
	}
	return cfg, nil
}
