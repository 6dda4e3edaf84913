package actor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	pc "github.com/asynkron/protoactor-go/cluster"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdProvider is the "etcd" membership provider: each node keeps one key,
// /tern/<cluster>/<incarnation>, alive under a lease it renews, and
// watches the others'. A node that stops renewing (a crash) drops out when
// its lease expires (etcdTTL); one that leaves deletes its key.
//
// protoactor-go's own etcd provider is not used: at the pinned version it
// never closes its etcd client (its goroutines outlive the node), and its
// keepalive loop reads a shutdown flag the caller writes without a lock
// (a data race).
type etcdProvider struct {
	c      *clusterState
	cfg    clientv3.Config
	client *clientv3.Client
	prefix string // /tern/<cluster>/
	key    string // prefix + this incarnation
	value  string
	lease  clientv3.LeaseID
	cl     *pc.Cluster

	ctx    context.Context // ends the keepalive and the watch
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex // members, and the MemberList updates made from them
	members map[string]*pc.Member
}

// etcdTTL is the lease of a node's key: a crashed node is out after it.
const etcdTTL = 3 // seconds

// etcdMember is what a node's key holds.
type etcdMember struct {
	ID      string   `json:"id"`
	Node    string   `json:"node"`
	Number  uint16   `json:"number"`
	Address string   `json:"address"`
	Kinds   []string `json:"kinds"`
}

var _ pc.ClusterProvider = (*etcdProvider)(nil)

func newEtcdProvider(c *clusterState) (pc.ClusterProvider, error) {
	v, _ := json.Marshal(etcdMember{ID: c.memberID, Node: c.cfg.Node, Number: c.sys.node, Address: c.address, Kinds: []string{c.kind}})
	p := &etcdProvider{
		c:       c,
		cfg:     clientv3.Config{Endpoints: c.cfg.Etcd, DialTimeout: 5 * time.Second, Logger: zap.NewNop()},
		prefix:  "/tern/" + c.cfg.Name + "/",
		value:   string(v),
		members: map[string]*pc.Member{},
	}
	p.key = p.prefix + c.memberID
	return p, nil
}

// StartMember checks the members already there for a collision with this
// node, registers it, then follows the others.
func (p *etcdProvider) StartMember(cl *pc.Cluster) error {
	p.cl = cl
	where := fmt.Sprintf("cluster.etcd.endpoints %s", strings.Join(p.cfg.Endpoints, ","))
	client, err := clientv3.New(p.cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	p.client = client
	p.ctx, p.cancel = context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	resp, err := client.Get(ctx, p.prefix, clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("%s: etcd unreachable: %w", where, err)
	}
	for _, kv := range resp.Kvs {
		m, ok := p.decode(kv.Value)
		if !ok {
			continue
		}
		if err := p.collides(m); err != nil {
			return err
		}
		p.members[string(kv.Key)] = memberOf(m)
	}
	lease, err := client.Grant(ctx, etcdTTL)
	if err != nil {
		return fmt.Errorf("%s: lease: %w", where, err)
	}
	p.lease = lease.ID
	if _, err := client.Put(ctx, p.key, p.value, clientv3.WithLease(lease.ID)); err != nil {
		return fmt.Errorf("%s: register: %w", where, err)
	}
	alive, err := client.KeepAlive(p.ctx, lease.ID)
	if err != nil {
		return fmt.Errorf("%s: keepalive: %w", where, err)
	}
	p.publish()
	watch := client.Watch(p.ctx, p.prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	p.wg.Add(2)
	go p.keepAlive(alive)
	go p.follow(watch)
	return nil
}

func (p *etcdProvider) StartClient(*pc.Cluster) error {
	return fmt.Errorf("actor: cluster: etcd: a tern node is always a member")
}

// collides is the error of a member whose name or number is this node's.
func (p *etcdProvider) collides(m etcdMember) error {
	c := p.c
	if m.ID != c.memberID && (m.Node == c.cfg.Node || m.Number == c.sys.node) {
		return fmt.Errorf("node %s (number %d, at %s) is in the cluster already: this node, %s, has its name or number (%d); refused",
			m.Node, m.Number, m.Address, c.cfg.Node, c.sys.node)
	}
	return nil
}

func (p *etcdProvider) decode(v []byte) (etcdMember, bool) {
	var m etcdMember
	if err := json.Unmarshal(v, &m); err != nil || m.ID == "" {
		p.c.sys.warnings.Warn(p.c.sys.log, "cluster: etcd: a member key that is not a tern node's", string(v), "value", string(v))
		return m, false
	}
	return m, true
}

func memberOf(m etcdMember) *pc.Member {
	host, port, _ := splitHostPort(m.Address)
	return &pc.Member{Id: m.ID, Host: host, Port: int32(port), Kinds: m.Kinds}
}

// publish hands the members, this node included, to the MemberList.
func (p *etcdProvider) publish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := []*pc.Member{p.c.selfClusterMember()}
	for _, m := range p.members {
		if m.Id != p.c.memberID {
			list = append(list, m)
		}
	}
	p.c.updateTopology(list)
}

// keepAlive drains the lease's renewals; when the lease is lost (etcd was
// away longer than the TTL), it registers again.
func (p *etcdProvider) keepAlive(alive <-chan *clientv3.LeaseKeepAliveResponse) {
	defer p.wg.Done()
	for {
		for range alive {
		}
		if p.ctx.Err() != nil {
			return
		}
		p.c.sys.log.Warn("cluster: etcd: lease lost; registering again", "node", p.c.cfg.Node)
		for p.ctx.Err() == nil {
			var err error
			if alive, err = p.register(); err == nil {
				break
			}
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func (p *etcdProvider) register() (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	lease, err := p.client.Grant(ctx, etcdTTL)
	if err != nil {
		return nil, err
	}
	if _, err := p.client.Put(ctx, p.key, p.value, clientv3.WithLease(lease.ID)); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.lease = lease.ID
	p.mu.Unlock()
	return p.client.KeepAlive(p.ctx, lease.ID)
}

// follow applies the changes of the members' keys.
func (p *etcdProvider) follow(watch clientv3.WatchChan) {
	defer p.wg.Done()
	for {
		for resp := range watch {
			if resp.Err() != nil {
				break
			}
			p.mu.Lock()
			for _, ev := range resp.Events {
				key := string(ev.Kv.Key)
				if ev.Type == clientv3.EventTypeDelete {
					delete(p.members, key)
					continue
				}
				m, ok := p.decode(ev.Kv.Value)
				if !ok || m.ID == p.c.memberID {
					continue
				}
				if err := p.collides(m); err != nil {
					p.c.sys.warnings.Warn(p.c.sys.log, "cluster: member refused", "etcd "+m.ID, "err", err)
					continue
				}
				p.members[key] = memberOf(m)
			}
			p.mu.Unlock()
			p.publish()
		}
		if p.ctx.Err() != nil {
			return
		}
		// The watch broke (etcd compacted, or was away): start over
		// from what is there now.
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		resp, err := p.client.Get(ctx, p.prefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(time.Second):
			}
			watch = p.client.Watch(p.ctx, p.prefix, clientv3.WithPrefix())
			continue
		}
		p.mu.Lock()
		clear(p.members)
		for _, kv := range resp.Kvs {
			if m, ok := p.decode(kv.Value); ok && m.ID != p.c.memberID && p.collides(m) == nil {
				p.members[string(kv.Key)] = memberOf(m)
			}
		}
		p.mu.Unlock()
		p.publish()
		watch = p.client.Watch(p.ctx, p.prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	}
}

// Shutdown stops following; graceful, it deletes this node's key (and
// revokes its lease) so that the others see it leave at once. The etcd
// client is closed either way.
func (p *etcdProvider) Shutdown(graceful bool) error {
	if p.client == nil {
		return nil
	}
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	var err error
	if graceful {
		// Within the leave's deadline; past it, a second more: a key left
		// behind costs the others etcdTTL of calls to a node that is gone.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if lc := p.c.leaveCtx; lc != nil && lc.Err() == nil {
			cancel()
			ctx, cancel = context.WithTimeout(lc, 3*time.Second)
		}
		if _, err = p.client.Delete(ctx, p.key); err == nil {
			p.mu.Lock()
			lease := p.lease
			p.mu.Unlock()
			_, err = p.client.Revoke(ctx, lease)
		}
		cancel()
	}
	if cerr := p.client.Close(); err == nil {
		err = cerr
	}
	p.client = nil
	return err
}
