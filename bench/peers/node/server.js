// Seed 001's chat server (Node + the npm "ws" package), as the article writes it:
// one ws.Server, state on the socket objects, and every broadcast a
// wss.clients.forEach(client => client.send(JSON.stringify(data))).
// Adapted to the subset of chatd's protocol the benchmarks use: login by query
// (userName, userColor, gender), Authorized with the user list,
// Connected/Disconnected, PublicMessage to everyone, PrivateMessage to the
// recipient and the sender, Ping every 5 s answered by Pong; the article's own
// heartBeat ping is answered too. Loopback only: it is a measuring peer.
//
//   node server.js --listen 127.0.0.1:27802
'use strict'

const Websocket = require('ws')

function parseListen (argv) {
  let listen = '127.0.0.1:0'
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--listen' && i + 1 < argv.length) listen = argv[++i]
    else if (argv[i].startsWith('--listen=')) listen = argv[i].slice('--listen='.length)
  }
  const at = listen.lastIndexOf(':')
  const host = listen.slice(0, at)
  const port = Number(listen.slice(at + 1))
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) || !Number.isInteger(port)) {
    console.error(`--listen ${listen}: want a loopback 127.x.y.z:port`)
    process.exit(2)
  }
  return { host, port }
}

const OFFLINE_TEXT = 'Не удалось отправить сообщение выбранному пользователю'
const PING_INTERVAL = 5000
const MAX_MISSED = 3

const { host, port } = parseListen(process.argv.slice(2))
const wss = new Websocket.Server({ host, port, maxPayload: 65536 })
let nextId = 0

function userOf (ws) {
  return { userId: ws.userId, userName: ws.userName, gender: ws.gender, userColor: ws.userColor }
}

function escapeHtml (s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

function processText (s) {
  return escapeHtml(s).replace(/\{([^{}]*)\}/g, '<b>$1</b>')
}

// broadcast is the article's loop: stringify and send per client.
function broadcast (data) {
  wss.clients.forEach(client => {
    if (client.readyState === Websocket.OPEN && client.userId) {
      client.send(JSON.stringify(data))
    }
  })
}

wss.on('connection', function (ws, req) {
  const q = new URL(req.url || '/', 'http://localhost').searchParams
  ws.userId = ++nextId
  ws.userName = (q.get('userName') || '').trim() || 'Инкогнито'
  const color = q.get('userColor') || ''
  ws.userColor = /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(color) ? color : '#000000'
  const gender = Number(q.get('gender'))
  ws.gender = [0, 1, 2].includes(gender) ? gender : 0
  ws.missed = 0

  const users = []
  wss.clients.forEach(client => { if (client.userId) users.push(userOf(client)) })
  users.sort((a, b) => a.userId - b.userId) // join order
  ws.send(JSON.stringify({ action: 'Authorized', ...userOf(ws), users }))
  broadcast({ action: 'Connected', ...userOf(ws) })

  ws.on('message', function (message) {
    let data
    try {
      data = JSON.parse(message)
    } catch (e) {
      return
    }
    if (data === null || typeof data !== 'object') return
    if (data.action === 'Pong') {
      ws.missed = 0
      return
    }
    if (data.event === 'heartBeat') {
      ws.missed = 0
      ws.send(JSON.stringify({ event: 'heartBeat', content: 'pong' }))
      return
    }
    if ((data.action && data.action !== 'Message') || typeof data.text !== 'string' || data.text === '') return
    const toUserId = Number(data.toUserId) || 0
    const out = { action: 'PublicMessage', ...userOf(ws), text: processText(data.text), toUserId }
    if (toUserId === 0) {
      broadcast(out)
      return
    }
    out.action = 'PrivateMessage'
    let rcpt = null
    wss.clients.forEach(client => { if (client.userId === toUserId) rcpt = client })
    if (rcpt === null) {
      out.text = OFFLINE_TEXT
      ws.send(JSON.stringify(out))
      return
    }
    rcpt.send(JSON.stringify(out))
    if (rcpt !== ws) ws.send(JSON.stringify(out))
  })

  ws.on('close', function () {
    if (ws.lost) return
    broadcast({ action: 'Disconnected', ...userOf(ws) })
  })
})

setInterval(() => {
  wss.clients.forEach(ws => {
    if (ws.missed >= MAX_MISSED) {
      ws.lost = true
      ws.terminate()
      broadcast({ action: 'ConnectionLost', ...userOf(ws) })
      return
    }
    ws.missed++
    if (ws.readyState === Websocket.OPEN) ws.send('{"action":"Ping"}')
  })
}, PING_INTERVAL)

wss.on('listening', () => {
  const a = wss.address()
  console.log(`listening ${a.address}:${a.port}`)
})

process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))
