/** ECharts for the dashboard: only the charts and components it draws are registered (echarts/core keeps the
 * rest out of the bundle; vite puts ECharts in its own chunk), and the options of each chart. Amounts stay
 * integer fen; axes and tooltips format them. */
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { use, type ComposeOption } from 'echarts/core'
import type { BarSeriesOption, LineSeriesOption, PieSeriesOption } from 'echarts/charts'
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

import type { ChannelFigures, Minute, ProvinceFigures } from '@/api/dashboard'
import { formatFen } from '@/utils/money'

use([CanvasRenderer, LineChart, BarChart, PieChart, GridComponent, TooltipComponent, LegendComponent])

export type ChartOption = ComposeOption<BarSeriesOption | LineSeriesOption | PieSeriesOption | GridComponentOption
  | LegendComponentOption | TooltipComponentOption>

const TEXT = '#c7d2fe'
const AXIS = '#334155'
export const PALETTE = ['#ff5a1f', '#22d3ee', '#a78bfa', '#34d399', '#fbbf24', '#f472b6', '#60a5fa', '#f87171']

/** Fen as a short amount for axes and a TV: ¥8,520 · ¥12.3万 · ¥1.25亿 (integer arithmetic). */
export function shortFen(fen: number): string {
  const yuan = Math.trunc(fen / 100)
  if (Math.abs(yuan) >= 100_000_000) return `¥${tenths(Math.round(yuan / 1_000_000), 2)}亿`
  if (Math.abs(yuan) >= 10_000) return `¥${tenths(Math.round(yuan / 1_000), 1)}万`
  return `¥${yuan.toLocaleString('zh-CN')}`
}

/** An integer of hundredths (digits 2) or tenths (digits 1) written with its decimals: 1234, 2 → "12.34". */
function tenths(scaled: number, digits: 1 | 2): string {
  const unit = digits === 2 ? 100 : 10
  const whole = Math.trunc(scaled / unit)
  const rest = Math.abs(scaled - whole * unit)
  return `${whole.toLocaleString('zh-CN')}.${String(rest).padStart(digits, '0')}`
}

const tooltipBase = {
  backgroundColor: 'rgba(15, 23, 42, 0.92)', borderColor: AXIS, textStyle: { color: '#e2e8f0' },
} as const

export function perMinuteOption(minutes: Minute[], names: { gmv: string; orders: string }, big: boolean): ChartOption {
  const size = big ? 16 : 11
  return {
    backgroundColor: 'transparent',
    color: ['#ff5a1f', '#22d3ee'],
    animationDurationUpdate: 600,
    grid: { left: big ? 86 : 56, right: big ? 56 : 40, top: big ? 48 : 36, bottom: big ? 36 : 28 },
    legend: { data: [names.gmv, names.orders], textStyle: { color: TEXT, fontSize: size }, top: 4 },
    tooltip: {
      ...tooltipBase, trigger: 'axis',
      formatter: (params: unknown) => {
        const rows = params as { seriesName: string; value: number; axisValueLabel: string; marker: string }[]
        if (!rows.length) return ''
        return [rows[0].axisValueLabel, ...rows.map((r) =>
          `${r.marker}${r.seriesName}: ${r.seriesName === names.gmv ? formatFen(r.value) : r.value.toLocaleString()}`)].join('<br/>')
      },
    },
    xAxis: {
      type: 'category', data: minutes.map((m) => m.label), axisLine: { lineStyle: { color: AXIS } },
      axisLabel: { color: TEXT, fontSize: size, interval: big ? 9 : 14 }, axisTick: { show: false },
    },
    yAxis: [
      { type: 'value', axisLabel: { color: TEXT, fontSize: size, formatter: (v: number) => shortFen(v) },
        splitLine: { lineStyle: { color: AXIS, type: 'dashed' } } },
      { type: 'value', minInterval: 1, axisLabel: { color: TEXT, fontSize: size }, splitLine: { show: false } },
    ],
    series: [
      { name: names.gmv, type: 'line', smooth: true, showSymbol: false, lineStyle: { width: big ? 4 : 2 },
        areaStyle: { opacity: 0.18 }, data: minutes.map((m) => m.gmv_fen) },
      { name: names.orders, type: 'bar', yAxisIndex: 1, barMaxWidth: 10, itemStyle: { opacity: 0.75 },
        data: minutes.map((m) => m.orders) },
    ],
  }
}

export function channelOption(channels: ChannelFigures[], name: (code: string) => string, big: boolean): ChartOption {
  return {
    backgroundColor: 'transparent',
    color: PALETTE,
    animationDurationUpdate: 600,
    tooltip: {
      ...tooltipBase, trigger: 'item',
      formatter: (p: unknown) => {
        const item = p as { name: string; value: number; percent: number; data: { gmv: number } }
        return `${item.name}<br/>${item.value.toLocaleString()} (${item.percent}%)<br/>${formatFen(item.data.gmv)}`
      },
    },
    legend: { bottom: 0, textStyle: { color: TEXT, fontSize: big ? 15 : 11 }, itemWidth: 12, itemHeight: 12 },
    series: [{
      type: 'pie', radius: ['42%', '68%'], center: ['50%', '44%'], avoidLabelOverlap: true,
      itemStyle: { borderColor: '#0b1026', borderWidth: 2 },
      label: { color: '#e2e8f0', fontSize: big ? 16 : 11, formatter: '{b}\n{d}%' },
      data: channels.map((c) => ({ name: name(c.channel), value: c.orders, gmv: c.gmv_fen })),
    }],
  }
}

export function provinceOption(provinces: ProvinceFigures[], big: boolean): ChartOption {
  const rows = [...provinces].reverse() // largest on top
  return {
    backgroundColor: 'transparent',
    animationDurationUpdate: 600,
    grid: { left: big ? 90 : 64, right: big ? 70 : 48, top: 8, bottom: 8 },
    tooltip: {
      ...tooltipBase, trigger: 'axis', axisPointer: { type: 'shadow' },
      formatter: (params: unknown) => {
        const [row] = params as { name: string; value: number; dataIndex: number }[]
        return row ? `${row.name}: ${row.value.toLocaleString()}<br/>${formatFen(rows[row.dataIndex].gmv_fen)}` : ''
      },
    },
    xAxis: { type: 'value', minInterval: 1, axisLabel: { show: false }, splitLine: { show: false } },
    yAxis: {
      type: 'category', data: rows.map((p) => p.province), axisLine: { lineStyle: { color: AXIS } },
      axisTick: { show: false }, axisLabel: { color: TEXT, fontSize: big ? 16 : 11 },
    },
    series: [{
      type: 'bar', data: rows.map((p) => p.orders), barMaxWidth: big ? 22 : 14,
      itemStyle: { color: '#22d3ee', borderRadius: [0, 4, 4, 0] },
      label: { show: true, position: 'right', color: '#e2e8f0', fontSize: big ? 15 : 11 },
    }],
  }
}
