// Package registry is a client of a Confluent-compatible schema registry:
// schemas by id for decoding, registration for sinks, a subject's latest
// schema for inferring a source's columns. Answers are cached: a schema id
// names one schema forever, and so does a (subject, schema) registration.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotFound is wrapped by the errors for a schema id or subject the
// registry does not have.
var ErrNotFound = errors.New("not found")

// Options configure a Client.
type Options struct {
	// URL is the registry's base URL, e.g. http://127.0.0.1:8081.
	URL string
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
	// Username and Password, when set, are sent as HTTP basic auth.
	Username, Password string
	// Transport is the HTTP transport (default http.DefaultTransport).
	Transport http.RoundTripper
}

// Client talks to one registry. It is safe for concurrent use.
type Client struct {
	o    Options
	http *http.Client

	mu   sync.Mutex
	byID map[int]string
	ids  map[string]int // subject + "\x00" + schema
}

// maxBody bounds what a registry answer may hold.
const maxBody = 16 << 20

// New returns a client of the registry at o.URL.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("schema registry: invalid URL %q", o.URL)
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	return &Client{o: o, http: &http.Client{Timeout: o.Timeout, Transport: o.Transport},
		byID: map[int]string{}, ids: map[string]int{}}, nil
}

// SchemaByID returns the schema text of id.
func (c *Client) SchemaByID(ctx context.Context, id int) (string, error) {
	c.mu.Lock()
	s, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	var ans struct {
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType"`
	}
	if err := c.do(ctx, http.MethodGet, "/schemas/ids/"+strconv.Itoa(id), nil, &ans); err != nil {
		return "", fmt.Errorf("schema id %d: %w", id, err)
	}
	if ans.SchemaType != "" && ans.SchemaType != "AVRO" {
		return "", fmt.Errorf("schema registry: schema id %d is %s, not AVRO", id, ans.SchemaType)
	}
	c.mu.Lock()
	c.byID[id] = ans.Schema
	c.mu.Unlock()
	return ans.Schema, nil
}

// Register registers schema under subject (or finds it registered) and
// returns its id.
func (c *Client) Register(ctx context.Context, subject, schema string) (int, error) {
	key := subject + "\x00" + schema
	c.mu.Lock()
	id, ok := c.ids[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	body, _ := json.Marshal(map[string]string{"schema": schema})
	var ans struct {
		ID int `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/subjects/"+url.PathEscape(subject)+"/versions", body, &ans); err != nil {
		return 0, fmt.Errorf("register subject %q: %w", subject, err)
	}
	c.mu.Lock()
	c.ids[key] = ans.ID
	c.byID[ans.ID] = schema
	c.mu.Unlock()
	return ans.ID, nil
}

// Latest returns the id and text of subject's latest schema. It is not
// cached: the latest version changes.
func (c *Client) Latest(ctx context.Context, subject string) (int, string, error) {
	var ans struct {
		ID     int    `json:"id"`
		Schema string `json:"schema"`
	}
	if err := c.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions/latest", nil, &ans); err != nil {
		return 0, "", fmt.Errorf("latest schema of subject %q: %w", subject, err)
	}
	return ans.ID, ans.Schema, nil
}

// do sends one request and decodes a 200 answer into out; a registry
// error becomes an error with its code and message (ErrNotFound for 404).
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.o.URL+path, r)
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	if c.o.Username != "" || c.o.Password != "" {
		req.SetBasicAuth(c.o.Username, c.o.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("schema registry: %s %s: reading the answer: %w", method, path, err)
	}
	if len(data) > maxBody {
		return fmt.Errorf("schema registry: %s %s: answer larger than %d bytes", method, path, maxBody)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		err := fmt.Errorf("schema registry: %s %s: %d %s (error code %d)", method, path, resp.StatusCode, e.Message, e.Code)
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("schema registry: %s %s: malformed answer: %w", method, path, err)
	}
	return nil
}
