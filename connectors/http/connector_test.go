package http

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/executor"
	"github.com/weirdb/weir/sql/sqlerr"
)

func TestOpenSource(t *testing.T) {
	_, err := (&Connector{}).OpenSource(context.Background(), executor.SourceConfig{Name: "s", Relation: testRelation})
	if code := sqlerr.CodeOf(err); code != sqlerr.FeatureNotSupported || !strings.Contains(err.Error(), "/v1/ingest/") {
		t.Fatalf("OpenSource: %v (%s)", err, code)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	const u = "http://127.0.0.1:1/x"
	for _, tc := range []struct {
		opts map[string]string
		want string // in the message; "" when the options are good
	}{
		{map[string]string{"url": u, "method": "patch", "format": "JSON", "batch.max_rows": "1", "batch.format": "NDJSON",
			"batch.linger": "100ms", "timeout": "2500", "retry.max": "0", "retry.backoff": "1s", "key": "id",
			"headers.authorization": "Bearer secret-t0ken", "headers.X-Custom_Header.v2": "a\tb"}, ""},
		{map[string]string{"url": "https://example.com", "tls.insecure_skip_verify": "true"}, ""},
		{map[string]string{}, `missing option "url"`},
		{map[string]string{"url": "ftp://secret@host/x"}, "option url: want an absolute http:// or https:// URL"},
		{map[string]string{"url": "/relative"}, "option url"},
		{map[string]string{"url": ":%zz"}, "option url"},
		{map[string]string{"url": u, "method": "GET"}, `option method: "GET"`},
		{map[string]string{"url": u, "format": "avro"}, `cannot write format "avro"`},
		{map[string]string{"url": u, "batch.format": "csv"}, `option batch.format: "csv"`},
		{map[string]string{"url": u, "batch.max_rows": "0"}, `option batch.max_rows: "0"`},
		{map[string]string{"url": u, "batch.max_rows": "many"}, `option batch.max_rows`},
		{map[string]string{"url": u, "batch.linger": "soon"}, `option batch.linger: "soon"`},
		{map[string]string{"url": u, "batch.linger": "-5ms"}, `option batch.linger: "-5ms"`},
		{map[string]string{"url": u, "batch.linger": "0"}, ""},
		{map[string]string{"url": u, "timeout": "0s"}, `option timeout: "0s"`},
		{map[string]string{"url": u, "timeout": "-1"}, `option timeout`},
		{map[string]string{"url": u, "timeout": "99999999999999999"}, `option timeout`},
		{map[string]string{"url": u, "retry.max": "-1"}, `option retry.max: "-1"`},
		{map[string]string{"url": u, "retry.backoff": "1 second"}, `option retry.backoff`},
		{map[string]string{"url": u, "headers.bad name": "x"}, `not a valid HTTP header name`},
		{map[string]string{"url": u, "headers.": "x"}, `not a valid HTTP header name`},
		{map[string]string{"url": u, "headers.x-a": "secret\r\nInjected: 1"}, `cannot hold control characters`},
		{map[string]string{"url": u, "headers.idempotency-key": "k"}, `sets header Idempotency-Key itself`},
		{map[string]string{"url": u, "headers.content-type": "text/plain"}, `sets header Content-Type itself`},
		{map[string]string{"url": u, "headers.x-weir-epoch": "1"}, `sets header X-Weir-Epoch itself`},
		{map[string]string{"url": "https://h/", "tls.ca": filepath.Join(dir, "missing.pem")}, "option tls.ca"},
		{map[string]string{"url": "https://h/", "tls.ca": notPEM}, "holds no PEM certificate"},
		{map[string]string{"url": "https://h/", "tls.cert": notPEM}, "tls.cert and tls.key go together"},
		{map[string]string{"url": "https://h/", "tls.cert": notPEM, "tls.key": notPEM}, "client certificate"},
		{map[string]string{"url": "https://h/", "tls.insecure_skip_verify": "yes"}, `option tls.insecure_skip_verify: "yes"`},
		{map[string]string{"url": u, "tls.insecure_skip_verify": "true"}, "tls options need an https:// url"},
		{map[string]string{"url": u, "topic": "t", "retries": "3"}, `unknown option "retries"`},
	} {
		tc.opts["connector"] = "http"
		s, err := (&Connector{}).OpenSink(context.Background(), executor.SinkConfig{Name: "alerts", Relation: testRelation, Options: tc.opts})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.opts, err)
			} else {
				s.Close()
			}
			continue
		}
		if code := sqlerr.CodeOf(err); code != sqlerr.InvalidParameterValue || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v (%s), want 22023 %q", tc.opts, err, code, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: the error shows a secret: %v", tc.opts, err)
		}
	}
	// The options were read into the sink.
	s := openSink(t, "http://127.0.0.1:1/x", map[string]string{"method": "patch", "batch.max_rows": "7", "batch.format": "ndjson",
		"timeout": "2500", "retry.max": "0", "retry.backoff": "1m", "headers.x-a": "1"}, nil)
	if s.method != "PATCH" || s.maxRows != 7 || !s.ndjson || s.contentType != "application/x-ndjson" || s.timeout != 2500*time.Millisecond ||
		s.retries != 0 || s.backoff != time.Minute || s.maxBackoff != time.Minute || s.header.Get("X-A") != "1" {
		t.Errorf("sink %+v", s)
	}
	s = openSink(t, "http://127.0.0.1:1/x", map[string]string{"retry.backoff": ""}, nil)
	if s.method != "POST" || s.maxRows != defaultMaxRows || s.ndjson || s.contentType != "application/json" || s.timeout != defaultTimeout ||
		s.retries != defaultRetries || s.backoff != defaultBackoff || s.maxBackoff != maxBackoff || len(s.header) != 0 {
		t.Errorf("defaults %+v", s)
	}
}

// pki is a CA, and certificates it signed for a server (127.0.0.1) and
// a client, as PEM files.
type pki struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	server                    tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "weir test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "weir test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	p := &pki{caFile: write("ca.pem", "CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	serverDER, serverKey := issue(2, x509.ExtKeyUsageServerAuth)
	p.server = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
	clientDER, clientKey := issue(3, x509.ExtKeyUsageClientAuth)
	p.certFile = write("client.pem", "CERTIFICATE", clientDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	p.keyFile = write("client.key", "PRIVATE KEY", keyDER)
	return p
}

// An https endpoint that requires a client certificate: reached with the
// CA and the certificate, refused without either.
func TestTLS(t *testing.T) {
	p := newPKI(t)
	var clients []string
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(_ nethttp.ResponseWriter, r *nethttp.Request) {
		clients = append(clients, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
	srv.StartTLS()
	defer srv.Close()
	for _, tc := range []struct {
		name string
		opts map[string]string
		want string // in the dead letter; "" for delivered
	}{
		{"ca and client certificate", map[string]string{"tls.ca": p.caFile, "tls.cert": p.certFile, "tls.key": p.keyFile}, ""},
		{"insecure", map[string]string{"tls.insecure_skip_verify": "true", "tls.cert": p.certFile, "tls.key": p.keyFile}, ""},
		{"no client certificate", map[string]string{"tls.ca": p.caFile}, "certificate"},
		{"unknown CA", map[string]string{"tls.cert": p.certFile, "tls.key": p.keyFile}, "certificate signed by unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts["retry.max"] = "0"
			s := openSink(t, srv.URL, tc.opts, nil)
			letters := deadLetters(t, s.Write(context.Background(), 1, inserts(1)))
			if tc.want == "" {
				if len(letters) != 0 {
					t.Fatalf("letters %+v", letters)
				}
				return
			}
			if len(letters) != 1 || letters[0].Status != 0 || !strings.Contains(letters[0].Response, tc.want) {
				t.Fatalf("letters %+v, want an error with %q", letters, tc.want)
			}
		})
	}
	if len(clients) != 2 || clients[0] != "weir test" {
		t.Fatalf("clients %v", clients)
	}
}
